/* global Buffer */
// The benchmark upstream: the smallest useful node:http server. Every target in the benchmark
// (direct, bare proxy, Vigil) ends here, so the upstream's own cost is the same for all of them.
//
//   node bench/upstream.mjs [port]      (port 0 or absent: a free port)
//
// It answers every request with the same small JSON body (keep-alive, content-length set) and
// counts the requests it served; GET /__bench/stats returns that count without counting itself,
// so the harness can check that a proxy really forwarded what wrk says it got answered.
// Prints one JSON line {"ready":true,"port":N} on stdout once listening.
import { createServer } from 'node:http';
import { serve } from './serve.mjs';

const BODY = Buffer.from(
  JSON.stringify({
    id: 'bench-0001',
    object: 'chat.completion',
    model: 'bench',
    choices: [{ index: 0, message: { role: 'assistant', content: 'pong' }, finish_reason: 'stop' }],
  }),
);
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

let served = 0;

const server = createServer({ keepAliveTimeout: 5000, requestTimeout: 0 }, (req, res) => {
  if (req.url === '/__bench/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ requests: served }));
    return;
  }
  served++;
  // Consume any request body before answering so keep-alive connections stay reusable.
  if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
    req.resume();
    req.once('end', () => {
      res.writeHead(200, HEADERS);
      res.end(BODY);
    });
    return;
  }
  res.writeHead(200, HEADERS);
  res.end(BODY);
});

serve(server, process.argv[2]);
