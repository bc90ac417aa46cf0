import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { startApp, startServer } from '../support/helpers.js';

const CARD = '4111 1111 1111 1111';
const EMAIL = 'jane.doe@example.com';
const SSN = '123-45-6789';

interface Seen {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A real upstream that records each request (headers and the body exactly as received) and answers per path. */
async function upstream(answer: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>) {
  const seen: Seen[] = [];
  const server = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ headers: req.headers, body });
      void answer(req, res, body);
    });
  });
  return { ...server, seen };
}

type Policy = Record<string, unknown>;

async function gateway(url: string, pii: Policy | undefined, extra: Record<string, unknown> = {}) {
  return startApp({
    log: { maskPii: [] }, // so any value the gateway logged would show in the captured output
    gateway: {
      routes: [
        { name: 'pii', prefix: '/pii/', upstream: url, auth: 'none', stripPrefix: true, maxBodyBytes: 0, ...(pii ? { pii } : {}) },
        { name: 'plain', prefix: '/plain/', upstream: url, auth: 'none', stripPrefix: true },
      ],
    },
    ...extra,
  });
}

const json = (value: unknown): string => JSON.stringify(value);

describe('gateway PII policies', () => {
  it('masks both directions; Content-Length is dropped upstream and exact on a held response', async () => {
    const up = await upstream((_req, res) => {
      const body = json({ reply: `write to ${EMAIL}, card ${CARD}`, n: 1 });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    const { gatewayUrl, log } = await gateway(up.url, { request: { action: 'mask' }, response: { action: 'mask' } });
    const res = await request(`${gatewayUrl}/pii/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: json({ prompt: `my card is ${CARD} and SSN ${SSN}, mail ${EMAIL}` }),
    });
    const text = await res.body.text();
    assert.equal(res.statusCode, 200);
    assert.equal(text, json({ reply: 'write to [EMAIL], card [CARD]', n: 1 }));
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(text)), 'a body held whole gets its exact length');
    const seen = up.seen[0] as Seen;
    assert.equal(seen.body.toString(), json({ prompt: 'my card is [CARD] and SSN [NATIONAL_ID], mail [EMAIL]' }));
    // The client's Content-Length is dropped: the body goes chunked, or (when undici finds the
    // transformed body already complete) with the transformed body's own exact length.
    const framing = seen.headers['content-length'] ?? seen.headers['transfer-encoding'];
    assert.ok(framing === 'chunked' || framing === String(seen.body.length), JSON.stringify(seen.headers));
    assert.equal(seen.headers['accept-encoding'], 'identity', 'a response policy asks for an uncompressed body');
    for (const value of [CARD, EMAIL, SSN]) assert.ok(!log.text.includes(value), `${value} not logged`);
  });

  it('tokenizes deterministically with the vault key: equal values, equal tokens, both directions', async () => {
    const up = await upstream((_req, res, body) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`echo: ${body.toString()} / again ${EMAIL.toUpperCase()}`);
    });
    const { gatewayUrl, app } = await gateway(up.url, { request: { action: 'tokenize', kinds: ['email'] }, response: { action: 'tokenize', kinds: ['email', 'card'] } });
    const { tokenizer } = await app.vault.pii();
    const token = tokenizer.token('email', EMAIL);
    const res = await request(`${gatewayUrl}/pii/t`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `from ${EMAIL} card ${CARD}` });
    assert.equal(res.statusCode, 200);
    assert.equal((up.seen[0] as Seen).body.toString(), `from ${token} card ${CARD}`, 'only the kinds listed are tokenized');
    assert.equal(await res.body.text(), `echo: from ${token} card ${tokenizer.token('card', CARD)} / again ${token}`);
  });

  it('blocks a request with a coded 422 naming the kinds, never the values, and records a security event', async () => {
    const up = await upstream((_req, res) => {
      res.end('ok');
    });
    const { gatewayUrl, app, log } = await gateway(up.url, { request: { action: 'block', kinds: ['card', 'national_id', 'email'] } });
    const res = await request(`${gatewayUrl}/pii/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json({ a: CARD, b: SSN }) });
    const body = (await res.body.json()) as { error: { code: string; message: string } };
    assert.equal(res.statusCode, 422);
    assert.equal(body.error.code, 'VGL_GATEWAY_PII_BLOCKED');
    assert.match(body.error.message, /card, national_id/);
    assert.ok(!JSON.stringify(body).includes('4111') && !JSON.stringify(body).includes(SSN));
    for (const seen of up.seen) assert.ok(!seen.body.toString().includes('4111'), 'the value never reached the upstream');
    const events = await app.store.securityEvents.recent(10, 'gateway.pii_blocked');
    assert.equal(events.length, 1);
    assert.deepEqual(events[0]?.details, { route: 'pii', direction: 'request', kinds: ['card', 'national_id'] });
    assert.ok(!log.text.includes(CARD) && !log.text.includes(SSN), 'not in the logs');
    // A caller repeating the blocked body is recorded once a second, not once per request.
    for (let i = 0; i < 20; i++) {
      const again = await request(`${gatewayUrl}/pii/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json({ a: CARD, b: SSN }) });
      assert.equal(again.statusCode, 422);
      await again.body.dump();
    }
    const flood = await app.store.securityEvents.recent(100, 'gateway.pii_blocked');
    assert.ok(flood.length < 10, `${flood.length} events for 21 identical blocks`);
    // A clean body passes.
    const clean = await request(`${gatewayUrl}/pii/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json({ a: 'order 1234' }) });
    assert.equal(clean.statusCode, 200);
    assert.equal(await clean.body.text(), 'ok');
    // Blocking only inspects: the bytes pass unchanged, so the client's Content-Length is kept.
    const passed = up.seen.at(-1) as Seen;
    assert.equal(passed.headers['content-length'], String(Buffer.byteLength(json({ a: 'order 1234' }))));
    assert.equal(passed.headers['transfer-encoding'], undefined);
  });

  it('blocks a response: a coded 502 before any byte, a cut connection after', async () => {
    const up = await upstream(async (req, res) => {
      if (req.url === '/clean') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 });
        res.end('{"ok":true}');
        return;
      }
      if (req.url === '/whole') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(json({ leaked: SSN }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"delta":"hello"}\n\n');
      await sleep(50);
      res.end(`data: {"delta":"${CARD}"}\n\n`);
    });
    const { gatewayUrl, app, log } = await gateway(up.url, { response: { action: 'block', kinds: ['card', 'national_id'] } });
    const whole = await request(`${gatewayUrl}/pii/whole`);
    const body = (await whole.body.json()) as { error: { code: string; message: string } };
    assert.equal(whole.statusCode, 502);
    assert.equal(body.error.code, 'VGL_GATEWAY_PII_RESPONSE_BLOCKED');
    assert.match(body.error.message, /national_id/);

    const clean = await request(`${gatewayUrl}/pii/clean`);
    assert.equal(await clean.body.text(), '{"ok":true}');
    assert.equal(clean.headers['content-length'], '11', 'an inspect-only transform keeps the upstream length');
    assert.equal(clean.headers['transfer-encoding'], undefined);

    const stream = await request(`${gatewayUrl}/pii/sse`);
    assert.equal(stream.statusCode, 200);
    const received: string[] = [];
    await assert.rejects(async () => {
      for await (const chunk of stream.body) received.push((chunk as Buffer).toString());
    }, 'the client sees a broken body, not a complete one');
    assert.equal(received.join(''), 'data: {"delta":"hello"}\n\n');
    const events = await app.store.securityEvents.recent(10, 'gateway.pii_blocked');
    assert.equal(events.length, 2);
    assert.ok(!log.text.includes(CARD) && !log.text.includes(SSN));
  });

  it('finds a card split over several TCP writes, in both directions', async () => {
    const up = await upstream(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (const piece of ['card: 4111 11', '11 1111 ', '1111 done']) {
        res.write(piece);
        await sleep(30);
      }
      res.end();
    });
    const { gatewayUrl } = await gateway(up.url, { request: { action: 'mask' }, response: { action: 'mask' } });
    const { port } = new URL(gatewayUrl);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write('POST /pii/split HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
    for (const piece of ['pay 41', '11-1111-11', '11-1111 now']) {
      socket.write(`${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`);
      await sleep(30);
    }
    socket.write('0\r\n\r\n');
    await once(socket, 'end');
    const raw = Buffer.concat(chunks).toString();
    assert.equal((up.seen[0] as Seen).body.toString(), 'pay [CARD] now');
    // Short and without a newline, the body was held whole, so it gets its exact new length.
    assert.match(raw, /^HTTP\/1.1 200/);
    assert.match(raw, /content-length: 17\r\n/i);
    assert.equal(raw.slice(raw.indexOf('\r\n\r\n') + 4), 'card: [CARD] done');
  });

  it('delivers Server-Sent Events one by one with a policy on', async () => {
    let clientGot: ((event: string) => void) | undefined;
    const arrivals: string[] = [];
    const up = await upstream(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (let i = 0; i < 3; i++) {
        const seen = new Promise<string>((resolve) => (clientGot = resolve));
        res.write(`data: {"i":${i},"text":"mail ${EMAIL}"}\n\n`);
        // The next event is sent only once the client has the previous one.
        arrivals.push(await seen);
      }
      res.end();
    });
    const { gatewayUrl } = await gateway(up.url, { response: { action: 'mask' } });
    const res = await request(`${gatewayUrl}/pii/stream`);
    assert.equal(res.headers['content-type'], 'text/event-stream');
    let buffered = '';
    for await (const chunk of res.body) {
      buffered += (chunk as Buffer).toString();
      let end: number;
      while ((end = buffered.indexOf('\n\n')) !== -1) {
        clientGot?.(buffered.slice(0, end));
        buffered = buffered.slice(end + 2);
      }
    }
    assert.deepEqual(arrivals, [0, 1, 2].map((i) => `data: {"i":${i},"text":"mail [EMAIL]"}`));
  });

  it('passes binary content types untouched with their Content-Length, and refuses compressed bodies', async () => {
    const binary = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0xff]), Buffer.from(` ${CARD} ${EMAIL} `), Buffer.from([0xfe, 0])]);
    const up = await upstream((req, res) => {
      if (req.url === '/gzip') {
        const body = gzipSync(`mail ${EMAIL}`);
        res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': body.length });
        res.end(body);
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': binary.length });
      res.end(binary);
    });
    const { gatewayUrl } = await gateway(up.url, { request: { action: 'mask' }, response: { action: 'mask' } });
    const res = await request(`${gatewayUrl}/pii/img`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: binary });
    assert.equal(res.headers['content-length'], String(binary.length));
    assert.deepEqual(Buffer.from(await res.body.arrayBuffer()), binary);
    const seen = up.seen[0] as Seen;
    assert.deepEqual(seen.body, binary);
    assert.equal(seen.headers['content-length'], String(binary.length));

    const gz = await request(`${gatewayUrl}/pii/up`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(json({ EMAIL })) });
    assert.equal(gz.statusCode, 415);
    assert.equal(((await gz.body.json()) as { error: { code: string } }).error.code, 'VGL_GATEWAY_PII_UNINSPECTABLE');
    assert.equal(up.seen.length, 1, 'a refused body never reaches the upstream');

    const down = await request(`${gatewayUrl}/pii/gzip`);
    assert.equal(down.statusCode, 502);
    assert.match(((await down.body.json()) as { error: { message: string } }).error.message, /gzip-encoded response/);
  });

  it('refuses a WebSocket upgrade on a route with a policy: its frames could not be inspected', async () => {
    const up = await upstream((_req, res) => {
      res.end('ok');
    });
    const { gatewayUrl } = await gateway(up.url, { request: { action: 'mask' } });
    const { port } = new URL(gatewayUrl);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let raw = '';
    socket.on('data', (c: Buffer) => (raw += c.toString()));
    socket.write('GET /pii/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    await once(socket, 'close');
    assert.match(raw, /^HTTP\/1.1 415 /);
    assert.match(raw, /VGL_GATEWAY_PII_UNINSPECTABLE/);
    assert.equal(up.seen.length, 0);
  });

  it('leaves routes without a policy byte-identical, Content-Length kept', async () => {
    const payload = `x ${CARD} ${EMAIL} ${SSN} ü€ end`;
    const up = await upstream((_req, res, body) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length });
      res.end(body);
    });
    const { gatewayUrl } = await gateway(up.url, { request: { action: 'mask' } });
    const res = await request(`${gatewayUrl}/plain/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: payload });
    assert.equal(await res.body.text(), payload);
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(payload)));
    const seen = up.seen[0] as Seen;
    assert.equal(seen.body.toString(), payload);
    assert.equal(seen.headers['content-length'], String(Buffer.byteLength(payload)));
    assert.equal(seen.headers['transfer-encoding'], undefined);
    assert.equal(seen.headers['accept-encoding'], undefined);
  });

  it('a client that disconnects still aborts the upstream request with a policy on', async () => {
    let upstreamClosed: (() => void) | undefined;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const { url } = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      res.on('close', () => upstreamClosed?.());
    });
    const { gatewayUrl } = await gateway(url, { request: { action: 'mask' }, response: { action: 'mask' } });
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${gatewayUrl}/pii/long`, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.end();
      setTimeout(() => reject(new Error('no first chunk')), 5000).unref();
    });
    await closed;
  });

  it('streams a large body through a policy with flat memory', async () => {
    const line = Buffer.from(`{"text":"lorem ipsum dolor sit amet ${'x'.repeat(400)} mail ${EMAIL}"}\n`);
    const total = 128 * 1024 * 1024;
    const body = (): Readable => {
      let sent = 0;
      return new Readable({
        read() {
          if (sent >= total) return void this.push(null);
          const chunk = Buffer.concat(Array.from({ length: 128 }, () => line));
          sent += chunk.length;
          this.push(chunk);
        },
      });
    };
    const { url } = await startServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      req.pipe(res);
    });
    const { gatewayUrl } = await gateway(url, { request: { action: 'mask', kinds: ['card'] }, response: { action: 'tokenize' } });
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const res = await request(`${gatewayUrl}/pii/big`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: body() });
    let received = 0;
    let tail = '';
    for await (const chunk of res.body) {
      received += (chunk as Buffer).length;
      tail = (tail + (chunk as Buffer).toString('latin1')).slice(-2000);
      assert.ok(!(chunk as Buffer).includes(EMAIL), 'every value was replaced');
    }
    clearInterval(timer);
    assert.equal(res.statusCode, 200);
    assert.ok(received > total / 2, `received ${received}`);
    assert.match(tail, /mail tok_email_[A-Za-z0-9_-]{22}"\}\n$/);
    const growthMb = (Math.max(peak, process.memoryUsage().rss) - baseline) / 1024 / 1024;
    assert.ok(growthMb < 96, `resident memory grew by ${growthMb.toFixed(0)} MiB while streaming 128 MiB each way`);
  });
});
