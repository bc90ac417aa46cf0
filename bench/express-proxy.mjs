// The Express stack a Node team would typically put in front of an LLM API: express 5 +
// helmet + express-rate-limit + pino-http (access log) + prom-client (request histogram) +
// http-proxy-middleware with a keep-alive agent. Each middleware with its usual configuration; the
// rate limit is set far above the benchmark's rate so it counts every request but never refuses.
//
//   node bench/express-proxy.mjs <upstream-origin> <access-log-file> [port]
//
// Prints one JSON line {"ready":true,"port":N} on stdout once listening; the access log goes to
// the file (so every line is serialised and written, as Vigil's and nginx's are).
import { Agent, createServer } from 'node:http';
import express from 'express';
import rateLimit from 'express-rate-limit';
import helmet from 'helmet';
import { createProxyMiddleware } from 'http-proxy-middleware';
import pino from 'pino';
import pinoHttp from 'pino-http';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { serve } from './serve.mjs';

const [origin, logFile, port] = process.argv.slice(2);
if (!origin || !logFile) {
  console.error('usage: node bench/express-proxy.mjs <upstream-origin> <access-log-file> [port]');
  process.exit(2);
}

const registry = new Registry();
collectDefaultMetrics({ register: registry });
const duration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Request duration by method, route and status.',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

const app = express();
app.disable('x-powered-by');
app.use(helmet());
app.use(pinoHttp({ logger: pino(pino.destination({ dest: logFile, sync: false })) }));
app.use((req, res, next) => {
  const end = duration.startTimer();
  res.once('finish', () => end({ method: req.method, route: '/v1', status: res.statusCode }));
  next();
});
app.use(rateLimit({ windowMs: 60_000, limit: 1_000_000_000, standardHeaders: 'draft-8', legacyHeaders: false }));
app.get('/metrics', async (_req, res) => {
  res.type(registry.contentType).send(await registry.metrics());
});
app.use(
  '/v1',
  createProxyMiddleware({
    target: `${origin}/v1`,
    changeOrigin: true,
    agent: new Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 4000 }),
  }),
);

const server = createServer(app);
server.keepAliveTimeout = 5000;
serve(server, port);
