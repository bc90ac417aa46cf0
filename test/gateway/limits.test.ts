import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { startApp, startServer } from '../support/helpers.js';

/** An upstream that counts requests and the body bytes it received, and notes aborted requests. */
async function countingUpstream() {
  const stats = { requests: 0, bytes: 0, completed: 0 };
  const { url } = await startServer((req, res) => {
    stats.requests++;
    req.on('data', (c: Buffer) => (stats.bytes += c.length));
    req.on('error', () => undefined);
    req.on('end', () => {
      stats.completed++;
      res.end(JSON.stringify({ ok: true }));
    });
  });
  return { url, stats };
}

function appWith(upstream: string, gateway: Record<string, unknown> = {}, route: Record<string, unknown> = {}) {
  return startApp({ gateway: { ...gateway, routes: [{ name: 'r', prefix: '/r/', upstream, auth: 'none', ...route }] } });
}

/** Opens a raw socket, writes `raw`, and resolves with everything received until the server closes. */
function rawExchange(baseUrl: string, raw: string, onOpen?: (socket: Socket) => void): Promise<string> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(raw);
      onOpen?.(socket);
    });
    let out = '';
    socket.on('data', (d) => (out += d.toString()));
    socket.on('close', () => resolve(out));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve(out) : reject(err)));
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error(`no close within 10 s; got: ${out}`));
    });
  });
}

function codeOf(raw: string): string | undefined {
  return /"code":"(VGL_[A-Z_]+)"/.exec(raw)?.[1];
}

describe('gateway request limits', () => {
  it('413 for a declared body over the route limit, before any byte goes upstream', async () => {
    const upstream = await countingUpstream();
    const { gatewayUrl } = await appWith(upstream.url, {}, { maxBodyBytes: 1000 });
    const res = await request(`${gatewayUrl}/r/upload`, { method: 'POST', body: 'x'.repeat(1001) });
    assert.equal(res.statusCode, 413);
    assert.equal(((await res.body.json()) as { error: { code: string } }).error.code, 'VGL_GATEWAY_BODY_TOO_LARGE');
    assert.equal(upstream.stats.requests, 0);
    const ok = await request(`${gatewayUrl}/r/upload`, { method: 'POST', body: 'x'.repeat(1000) });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
    assert.equal(upstream.stats.bytes, 1000);
  });

  it('413 for a chunked body that grows past the limit while streaming; the upstream request is cut', async () => {
    const upstream = await countingUpstream();
    const { gatewayUrl } = await appWith(upstream.url, { limits: { maxBodyBytes: 64 * 1024 } });
    async function* chunks() {
      for (let i = 0; i < 64; i++) {
        yield Buffer.alloc(4096, 'y');
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const res = await request(`${gatewayUrl}/r/upload`, { method: 'POST', body: Readable.from(chunks()) }).catch((err: Error) => err);
    if (res instanceof Error) {
      // The gateway may close before the client finished sending; then it must not have forwarded it all.
      assert.match(res.message, /closed|reset|socket|EPIPE/i);
    } else {
      assert.equal(res.statusCode, 413);
      assert.equal(((await res.body.json()) as { error: { code: string } }).error.code, 'VGL_GATEWAY_BODY_TOO_LARGE');
    }
    assert.ok(upstream.stats.bytes <= 64 * 1024 + 4096 * 4, `upstream got ${upstream.stats.bytes} bytes`);
    assert.equal(upstream.stats.completed, 0, 'the upstream never saw the end of the oversized body');
    const ok = await request(`${gatewayUrl}/r/after`, { method: 'POST', body: 'fine' });
    assert.equal(ok.statusCode, 200, 'the gateway keeps serving');
    await ok.body.dump();
  });

  it('a chunked body under the limit arrives intact, byte for byte', async () => {
    const received: Buffer[] = [];
    const { url } = await startServer((req, res) => {
      req.on('data', (c: Buffer) => received.push(c));
      req.on('end', () => res.end('ok'));
    });
    const { gatewayUrl } = await appWith(url, { limits: { maxBodyBytes: 1024 * 1024 } });
    const sent: Buffer[] = [];
    async function* chunks() {
      for (let i = 0; i < 50; i++) {
        const chunk = Buffer.from(`chunk ${i} `.repeat(100));
        sent.push(chunk);
        yield chunk;
        if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    const res = await request(`${gatewayUrl}/r/upload`, { method: 'POST', body: Readable.from(chunks()) });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(Buffer.concat(received).toString(), Buffer.concat(sent).toString());
  });

  it('414 for a request target over maxUrlLength', async () => {
    const upstream = await countingUpstream();
    const { gatewayUrl } = await appWith(upstream.url, { limits: { maxUrlLength: 100 } });
    const res = await request(`${gatewayUrl}/r/${'a'.repeat(100)}`);
    assert.equal(res.statusCode, 414);
    assert.equal(((await res.body.json()) as { error: { code: string } }).error.code, 'VGL_GATEWAY_URI_TOO_LONG');
    assert.equal(upstream.stats.requests, 0);
  });

  it('408 for a client that sends its headers too slowly (slowloris)', async () => {
    const upstream = await countingUpstream();
    const { gatewayUrl } = await appWith(upstream.url, { limits: { headersTimeout: '300ms', requestTimeout: '600ms' } });
    const started = Date.now();
    const out = await rawExchange(gatewayUrl, 'GET /r/x HTTP/1.1\r\nHost: x\r\n', (socket) => {
      const drip = setInterval(() => socket.writable && socket.write('X-Drip: 1\r\n'), 50);
      socket.on('close', () => clearInterval(drip));
    });
    assert.match(out, /^HTTP\/1.1 408 /);
    assert.equal(codeOf(out), 'VGL_GATEWAY_REQUEST_TIMEOUT');
    assert.ok(Date.now() - started < 3000, `closed after ${Date.now() - started} ms`);
    assert.equal(upstream.stats.requests, 0);
  });

  it('408 for a client that sends its body too slowly, with the upstream request cut', async () => {
    const upstream = await countingUpstream();
    const { gatewayUrl } = await appWith(upstream.url, { limits: { headersTimeout: '300ms', requestTimeout: '600ms' } });
    const out = await rawExchange(gatewayUrl, 'POST /r/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab');
    assert.match(out, /^HTTP\/1.1 408 /);
    assert.equal(codeOf(out), 'VGL_GATEWAY_REQUEST_TIMEOUT');
  });

  it('closes connections beyond maxConnections at accept and serves again once one closes', async () => {
    const upstream = await countingUpstream();
    const { gatewayUrl } = await appWith(upstream.url, { limits: { maxConnections: 2 } });
    const { port } = new URL(gatewayUrl);
    const open = (): Promise<Socket> =>
      new Promise((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => resolve(socket));
        socket.on('error', () => undefined);
      });
    const first = await open();
    const second = await open();
    // Both held connections are really accepted: each serves a request.
    for (const socket of [first, second]) {
      const answered = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
      socket.write('GET /r/a HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(await answered, /^HTTP\/1.1 200 /);
    }
    const third = await open();
    const thirdClosed = await new Promise<string>((resolve) => {
      let out = '';
      third.on('data', (d: Buffer) => (out += d.toString()));
      third.on('close', () => resolve(out));
      third.write('GET /r/a HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    assert.equal(thirdClosed, '', 'the connection over the limit gets no answer');
    first.destroy();
    // Wait for the server to see the close, then a new connection is admitted.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const res = await request(`${gatewayUrl}/r/b`, { reset: true }).catch(() => undefined);
      status = res?.statusCode ?? 0;
      await res?.body.dump();
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(status, 200);
    second.destroy();
  });
});

describe('gateway Expect: 100-continue and bodiless answers', () => {
  it('answers 100 Continue only after the stages passed; a refused request never sends its body', async () => {
    const upstream = await countingUpstream();
    const { app, gatewayUrl } = await startApp({ gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: upstream.url, maxBodyBytes: 100 }] } });
    const head = (extra: string, length: number) =>
      `POST /r/x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${length}\r\nConnection: close\r\n${extra}\r\n`;
    const refused = await rawExchange(gatewayUrl, head('', 10));
    assert.match(refused, /^HTTP\/1.1 401 /, 'no 100 Continue before the key was checked');
    const { plaintext } = await app.keys.create({ name: 'c', scopes: [], expiresAt: null, now: Date.now() });
    await app.keyCache.refresh();
    const tooLarge = await rawExchange(gatewayUrl, head(`x-api-key: ${plaintext}\r\n`, 1000));
    assert.match(tooLarge, /^HTTP\/1.1 413 /);
    const accepted = await rawExchange(gatewayUrl, head(`x-api-key: ${plaintext}\r\n`, 10), (socket) => {
      socket.once('data', (d: Buffer) => {
        assert.match(d.toString(), /^HTTP\/1.1 100 Continue\r\n/);
        socket.write('0123456789');
      });
    });
    assert.match(accepted, /HTTP\/1.1 200 /);
    assert.equal(upstream.stats.bytes, 10);
    assert.equal(upstream.stats.requests, 1);
  });

  it('relays 304 and HEAD without a body', async () => {
    const { url } = await startServer((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') return void res.writeHead(304, { etag: '"v1"' }).end();
      res.writeHead(200, { etag: '"v1"', 'content-length': '5' }).end(req.method === 'HEAD' ? undefined : 'hello');
    });
    const { gatewayUrl } = await appWith(url);
    const notModified = await request(`${gatewayUrl}/r/doc`, { headers: { 'if-none-match': '"v1"' } });
    assert.equal(notModified.statusCode, 304);
    assert.equal(notModified.headers.etag, '"v1"');
    assert.equal(await notModified.body.text(), '');
    const head = await rawExchange(gatewayUrl, 'HEAD /r/doc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(head, /^HTTP\/1.1 200 /);
    assert.match(head, /content-length: 5/i);
    assert.ok(head.endsWith('\r\n\r\n'), 'no body after the headers');
  });
});
