/* global setInterval, Buffer */
// An OTLP/HTTP receiver for the benchmark: accepts JSON trace exports, counts the spans, answers
// 200. GET /__bench/stats returns {"exports":N,"spans":M}. Vigil's "full pipeline" target exports
// its sampled spans here, so tracing is measured with a real export over loopback.
//
//   node bench/otlp-sink.mjs [port]
import { createServer } from 'node:http';

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

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) shutdown();
}, 1000).unref();

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ ready: true, port: server.address().port }));
});
