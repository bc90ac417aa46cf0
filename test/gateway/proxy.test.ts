import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { startApp, startServer } from '../support/helpers.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function echoUpstream(): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const { url } = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes', connection: 'keep-alive, x-hop', 'x-hop': '1' });
      res.end(JSON.stringify({ url: req.url, length: body.length }));
    });
  });
  return { url, seen };
}

async function appWith(upstream: string, route: Record<string, unknown> = {}) {
  return startApp({
    gateway: { routes: [{ name: 'agents', prefix: '/agents/', stripPrefix: true, upstream, ...route }] },
  });
}

async function newKey(app: Awaited<ReturnType<typeof appWith>>['app'], scopes: string[] = []) {
  const { key, plaintext } = await app.keys.create({ name: 'test', scopes, expiresAt: null, now: Date.now() });
  await app.keyCache.refresh();
  return { key, plaintext };
}

describe('gateway routing and forwarding', () => {
  it('forwards to the upstream with the prefix stripped, query kept and the request ID echoed', async () => {
    const upstream = await echoUpstream();
    const { app, gatewayUrl } = await appWith(upstream.url);
    const { plaintext } = await newKey(app);
    const res = await request(`${gatewayUrl}/agents/run?x=1&y=two`, {
      headers: { authorization: `Bearer ${plaintext}`, 'x-request-id': 'caller-id-42', 'x-forwarded-for': '203.0.113.9' },
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), { url: '/run?x=1&y=two', length: 0 });
    assert.equal(res.headers['x-request-id'], 'caller-id-42');
    assert.equal(res.headers['x-upstream'], 'yes');
    assert.equal(res.headers['x-hop'], undefined, 'a header named in Connection is hop-by-hop and must not be forwarded');
    const seen = upstream.seen[0] as Seen;
    assert.equal(seen.headers['x-request-id'], 'caller-id-42');
    assert.equal(seen.headers.authorization, undefined, "Vigil's credential must not reach the upstream");
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'X-Forwarded-For from an untrusted peer is replaced, not extended');
    assert.match(String(seen.headers['x-forwarded-host']), /^127\.0\.0\.1:\d+$/);
  });

  it('accepts X-Correlation-ID, and replaces a request ID that could inject into logs', async () => {
    const upstream = await echoUpstream();
    const { app, gatewayUrl } = await appWith(upstream.url, { auth: 'none' });
    void app;
    const a = await request(`${gatewayUrl}/agents/a`, { headers: { 'x-correlation-id': 'corr-7' } });
    await a.body.dump();
    assert.equal(a.headers['x-request-id'], 'corr-7');
    const b = await request(`${gatewayUrl}/agents/a`, { headers: { 'x-request-id': 'bad id"}\\n{' } });
    await b.body.dump();
    assert.match(String(b.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('streams a large request body to the upstream intact', async () => {
    const upstream = await echoUpstream();
    const { gatewayUrl } = await appWith(upstream.url, { auth: 'none' });
    const body = 'x'.repeat(5 * 1024 * 1024);
    const res = await request(`${gatewayUrl}/agents/upload`, { method: 'POST', body });
    assert.deepEqual(await res.body.json(), { url: '/upload', length: body.length });
  });

  it('delivers Server-Sent Events chunk by chunk, without buffering', async () => {
    let release: (() => void) | undefined;
    const { url } = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let n = 0;
      const next = (): void => {
        n++;
        if (n > 3) return void res.end();
        res.write(`data: ${n}\n\n`);
        // The next chunk is only sent after the client has seen this one.
        release = next;
      };
      next();
    });
    const { gatewayUrl } = await appWith(url, { auth: 'none' });
    const res = await request(`${gatewayUrl}/agents/stream`);
    const received: string[] = [];
    for await (const chunk of res.body) {
      received.push(String(chunk));
      release?.();
    }
    assert.deepEqual(received, ['data: 1\n\n', 'data: 2\n\n', 'data: 3\n\n']);
  });

  it('answers HEAD and 204 without a body', async () => {
    const { url } = await startServer((req, res) => {
      res.writeHead(req.method === 'HEAD' ? 200 : 204, { 'x-m': String(req.method) });
      res.end();
    });
    const { gatewayUrl } = await appWith(url, { auth: 'none' });
    const head = await request(`${gatewayUrl}/agents/h`, { method: 'HEAD' });
    assert.equal(head.statusCode, 200);
    assert.equal(await head.body.text(), '');
    const del = await request(`${gatewayUrl}/agents/h`, { method: 'DELETE' });
    assert.equal(del.statusCode, 204);
    assert.equal(await del.body.text(), '');
  });
});

describe('gateway rejections', () => {
  async function expectError(res: Awaited<ReturnType<typeof request>>, status: number, code: string): Promise<void> {
    assert.equal(res.statusCode, status);
    const body = (await res.body.json()) as { error: { code: string; message: string; requestId: string } };
    assert.equal(body.error.code, code);
    assert.equal(body.error.requestId, res.headers['x-request-id']);
    assert.ok(body.error.message.length > 0);
    assert.ok(!JSON.stringify(body).includes('    at '), 'no stack trace');
  }

  it('404 for no route, 400 for dot segments', async () => {
    const upstream = await echoUpstream();
    const { gatewayUrl } = await appWith(upstream.url, { auth: 'none' });
    await expectError(await request(`${gatewayUrl}/elsewhere`), 404, 'VGL_GATEWAY_NO_ROUTE');
    for (const path of ['/agents/../admin', '/agents/%2e%2e/admin', '/agents/./x']) {
      const res = await rawRequest(gatewayUrl, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(res, /^HTTP\/1.1 400 /, path);
      assert.match(res, /VGL_GATEWAY_BAD_REQUEST/);
    }
    assert.equal(upstream.seen.length, 0);
  });

  it('401 for a missing, garbled or unknown key; 403 for a missing scope', async () => {
    const upstream = await echoUpstream();
    const { app, gatewayUrl } = await appWith(upstream.url, { scopes: ['agents:invoke'] });
    await expectError(await request(`${gatewayUrl}/agents/x`), 401, 'VGL_AUTH_MISSING');
    await expectError(await request(`${gatewayUrl}/agents/x`, { headers: { authorization: 'Bearer nonsense' } }), 401, 'VGL_AUTH_INVALID');
    await expectError(await request(`${gatewayUrl}/agents/x`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401, 'VGL_AUTH_INVALID');
    const forged = `vgl_${'a'.repeat(12)}_${'B'.repeat(32)}`;
    await expectError(await request(`${gatewayUrl}/agents/x`, { headers: { 'x-api-key': forged } }), 401, 'VGL_AUTH_INVALID');
    const unscoped = await newKey(app);
    await expectError(await request(`${gatewayUrl}/agents/x`, { headers: { 'x-api-key': unscoped.plaintext } }), 403, 'VGL_AUTH_FORBIDDEN');
    // Right ID, wrong secret.
    const wrongSecret = `${unscoped.plaintext.slice(0, -1)}${unscoped.plaintext.endsWith('A') ? 'B' : 'A'}`;
    await expectError(await request(`${gatewayUrl}/agents/x`, { headers: { 'x-api-key': wrongSecret } }), 401, 'VGL_AUTH_INVALID');
    const scoped = await newKey(app, ['agents:invoke']);
    const ok = await request(`${gatewayUrl}/agents/x`, { headers: { 'x-api-key': scoped.plaintext } });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
    assert.equal(upstream.seen.length, 1);
  });

  it('rejects an expired key', async () => {
    const upstream = await echoUpstream();
    const { app, gatewayUrl } = await appWith(upstream.url);
    const { plaintext } = await app.keys.create({ name: 'old', scopes: [], expiresAt: Date.now() - 1, now: Date.now() - 10_000 });
    await app.keyCache.refresh();
    await expectError(await request(`${gatewayUrl}/agents/x`, { headers: { 'x-api-key': plaintext } }), 401, 'VGL_AUTH_INVALID');
  });

  it('502 when the upstream refuses connections, 504 when it hangs; the gateway keeps serving', async () => {
    const { server, url } = await startServer(() => undefined);
    const hanging = await appWith(url, { auth: 'none', timeouts: { response: '300ms' } });
    const started = Date.now();
    await expectError(await request(`${hanging.gatewayUrl}/agents/slow`), 504, 'VGL_GATEWAY_UPSTREAM_TIMEOUT');
    assert.ok(Date.now() - started < 3000);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expectError(await request(`${hanging.gatewayUrl}/agents/gone`), 502, 'VGL_GATEWAY_UPSTREAM_UNREACHABLE');
    const live = await request(`${hanging.consoleUrl}/livez`);
    assert.equal(live.statusCode, 200);
    await live.body.dump();
  });

  it('431 with a coded JSON body for oversized headers', async () => {
    const upstream = await echoUpstream();
    const { gatewayUrl } = await appWith(upstream.url, { auth: 'none' });
    const res = await rawRequest(gatewayUrl, `GET /agents/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.match(res, /^HTTP\/1.1 431 /);
    assert.match(res, /"code":"VGL_GATEWAY_HEADERS_TOO_LARGE"/);
    const bad = await rawRequest(gatewayUrl, 'GET /agents/x HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n');
    assert.match(bad, /^HTTP\/1.1 400 /);
    assert.match(bad, /"code":"VGL_GATEWAY_BAD_REQUEST"/);
    assert.equal(upstream.seen.length, 0);
  });

  it('400 for request-smuggling shapes; the upstream sees none of them', async () => {
    const upstream = await echoUpstream();
    const { gatewayUrl } = await appWith(upstream.url, { auth: 'none' });
    const shapes = {
      'content-length and transfer-encoding': 'POST /agents/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'two different content-lengths': 'POST /agents/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      'invalid content-length': 'POST /agents/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\na',
      'obs-fold header': 'GET /agents/x HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n',
    };
    for (const [shape, raw] of Object.entries(shapes)) {
      const res = await rawRequest(gatewayUrl, raw);
      assert.match(res, /^HTTP\/1.1 400 /, shape);
      assert.match(res, /VGL_GATEWAY_BAD_REQUEST/, shape);
    }
    assert.equal(upstream.seen.length, 0);
  });

  it('a client that disconnects aborts the upstream request at once', async () => {
    let upstreamClosed: (() => void) | undefined;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const { url } = await startServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      res.on('close', () => upstreamClosed?.());
    });
    const { gatewayUrl, app } = await appWith(url, { auth: 'none' });
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${gatewayUrl}/agents/long`, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.on('close', resolve);
      req.end();
      setTimeout(() => reject(new Error('no first chunk')), 3000).unref();
    });
    const started = Date.now();
    await closed;
    assert.ok(Date.now() - started < 1000, 'upstream request aborted promptly');
    await app.stop();
  });
});

/** Sends bytes exactly as given (for malformed requests undici would refuse to send). */
function rawRequest(baseUrl: string, raw: string): Promise<string> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(raw));
    let out = '';
    socket.on('data', (d) => {
      out += d.toString();
      if (/\r\n\r\n/.test(out) && /"requestId"/.test(out)) socket.end();
    });
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.setTimeout(5000, () => {
      socket.destroy();
      resolve(out);
    });
  });
}
