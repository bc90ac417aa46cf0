/* global Buffer */
// An OTLP/HTTP receiver for the benchmark: accepts JSON trace exports, counts the spans, answers
// 200. GET /__bench/stats returns {"exports":N,"spans":M,"malformed":K}. Vigil's "full pipeline"
// target exports its sampled spans here, so tracing is measured with a real export over loopback.
// The exports are parsed only when the stats are asked for (after the runs): a ~450 KB export
// parsed on arrival costs several ms of CPU 0, which the load client and the upstream share, and
// that showed up as Vigil's latency (a collector runs on another machine in production).
//
//   node bench/otlp-sink.mjs [port]
import { createServer } from 'node:http';
import { serve } from './serve.mjs';

let exports = 0;
let spans = 0;
let malformed = 0;
/** Export bodies received and not yet parsed. */
let received = [];

function count() {
  for (const raw of received) {
    try {
      const body = JSON.parse(raw.toString('utf8'));
      for (const r of body.resourceSpans ?? []) for (const s of r.scopeSpans ?? []) spans += (s.spans ?? []).length;
      exports++;
    } catch {
      malformed++;
    }
  }
  received = [];
}

const server = createServer((req, res) => {
  if (req.url === '/__bench/stats') {
    count();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ exports, spans, malformed }));
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    received.push(Buffer.concat(chunks));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});

serve(server, process.argv[2]);
