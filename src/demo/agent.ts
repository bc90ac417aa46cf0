import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { listen } from '../core/listen.js';

/**
 * A stand-in AI agent for the demo: `/chat` streams a reply as Server-Sent Events, `/health`
 * reports health, and `POST /demo/fail` or `/demo/recover` switches its health so a newcomer can
 * watch the monitor and the alert work.
 */
export async function startDemoAgent(host: string, port: number): Promise<Server> {
  let healthy = true;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: healthy ? 'ok' : 'failing' }));
    } else if (path === '/demo/fail' || path === '/demo/recover') {
      healthy = path === '/demo/recover';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ healthy }));
    } else if (path === '/chat') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const words = ['Hello', 'from', 'the', 'demo', 'agent,', 'streamed', 'through', 'Vigil.'];
      let i = 0;
      const timer = setInterval(() => {
        if (i < words.length) res.write(`data: ${JSON.stringify({ token: words[i++] })}\n\n`);
        else {
          clearInterval(timer);
          res.end('data: [DONE]\n\n');
        }
      }, 100);
      res.on('close', () => clearInterval(timer));
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ agent: 'demo', method: req.method, path }));
    }
  });
  await listen(server, host, port, 'demo agent');
  return server;
}

/** Receives alert webhooks for the demo and hands each JSON body to `onAlert`. */
export async function startDemoWebhookSink(host: string, port: number, onAlert: (body: unknown) => void): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 1_048_576) chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        onAlert(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await listen(server, host, port, 'demo webhook receiver');
  return server;
}
