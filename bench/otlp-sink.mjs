/* global Buffer */
// An OTLP/HTTP receiver for the benchmark: accepts JSON trace exports, counts the spans, answers
// 200. GET /__bench/stats returns {"exports":N,"spans":M}. Vigil's "full pipeline" target exports
// its sampled spans here, so tracing is measured with a real export over loopback.
//
//   node bench/otlp-sink.mjs [port]
import { createServer } from 'node:http';
import { serve } from './serve.mjs';

let exports = 0;
let spans = 0;
let malformed = 0;

const server = createServer((req, res) => {
  if (req.url === '/__bench/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ exports, spans, malformed }));
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const r of body.resourceSpans ?? []) for (const s of r.scopeSpans ?? []) spans += (s.spans ?? []).length;
      exports++;
    } catch {
      malformed++;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});

serve(server, process.argv[2]);
