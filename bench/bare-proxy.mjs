// The reference proxy: what any Node reverse proxy on this stack must at least do, and nothing
// else. A node:http server and an undici Pool forwarding every request, both bodies streamed.
// No routing, no auth, no metrics, no logging, no request IDs. Vigil's figure divided by this
// one's is the cost of what Vigil adds on top of proxying itself.
//
//   node bench/bare-proxy.mjs <upstream-origin> [port]
//
// The server and pool options match Vigil's gateway (src/gateway/server.ts, proxy.ts) so the
// comparison isolates Vigil's work, not a different connection policy.
// Prints one JSON line {"ready":true,"port":N} on stdout once listening.
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';
import { serve } from './serve.mjs';

const origin = process.argv[2];
if (!origin) {
  console.error('usage: node bench/bare-proxy.mjs <upstream-origin> [port]');
  process.exit(2);
}
const upstreamHost = new URL(origin).host;

const pool = new Pool(origin, { connections: 256, pipelining: 1, keepAliveTimeout: 4000 });

// Hop-by-hop headers cannot be forwarded (undici refuses most of them anyway); Host is the upstream's.
const DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

const server = createServer({ keepAliveTimeout: 5000, requestTimeout: 0 }, async (req, res) => {
  const headers = ['host', upstreamHost];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (!DROP.has(raw[i].toLowerCase())) headers.push(raw[i], raw[i + 1]);
  }
  const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
  let upstream;
  try {
    upstream = await pool.request({ path: req.url, method: req.method, headers, body: hasBody ? req : null });
  } catch {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end('{"error":"bad gateway"}');
    return;
  }
  const out = {};
  for (const name in upstream.headers) if (!DROP.has(name)) out[name] = upstream.headers[name];
  res.writeHead(upstream.statusCode, out);
  try {
    await pipeline(upstream.body, res);
  } catch {
    res.destroy();
  }
});

serve(server, process.argv[3], () => pool.close());
