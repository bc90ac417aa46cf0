import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { WebSocket } from 'undici';
import { startApp, startServer } from '../support/helpers.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Decodes one masked client frame (text, < 64 KiB) or returns undefined when incomplete. */
function readFrame(buf: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const opcode = (buf[0] as number) & 0x0f;
  let length = (buf[1] as number) & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return undefined;
    length = buf.readUInt16BE(2);
    offset = 4;
  }
  if (buf.length < offset + 4 + length) return undefined;
  const mask = buf.subarray(offset, offset + 4);
  const payload = Buffer.from(buf.subarray(offset + 4, offset + 4 + length));
  for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return { opcode, payload, size: offset + 4 + length };
}

function frame(opcode: number, payload: Buffer): Buffer {
  const header = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}

/** A WebSocket upstream that answers every text message with `echo: <message>` (RFC 6455 handshake). */
async function echoUpstream() {
  const seen: IncomingHttpHeaders[] = [];
  const { server, url } = await startServer((_req, res) => res.end('plain'));
  server.on('upgrade', (req, socket: Duplex) => {
    seen.push(req.headers);
    if (req.url === '/refuse') return void socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}${GUID}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Upstream: ws\r\n\r\n`);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (let f = readFrame(pending); f; f = readFrame(pending)) {
        pending = pending.subarray(f.size);
        if (f.opcode === 8) return void socket.end(frame(8, f.payload));
        if (f.opcode === 1) socket.write(frame(1, Buffer.from(`echo: ${f.payload.toString()}`)));
      }
    });
    socket.on('error', () => undefined);
  });
  return { url, seen };
}

describe('gateway WebSocket proxying', () => {
  it('proxies an authenticated WebSocket: messages echo in order, credentials stay at the gateway', async () => {
    const upstream = await echoUpstream();
    const { app, gatewayUrl, log } = await startApp({ gateway: { routes: [{ name: 'ws', prefix: '/ws/', stripPrefix: true, upstream: upstream.url }] } });
    const { plaintext } = await app.keys.create({ name: 'ws', scopes: [], expiresAt: null, now: Date.now() });
    await app.keyCache.refresh();
    const ws = new WebSocket(`${gatewayUrl.replace('http', 'ws')}/ws/chat`, { headers: { authorization: `Bearer ${plaintext}` } });
    await once(ws, 'open');
    const received: string[] = [];
    const all = new Promise<void>((resolve) =>
      ws.addEventListener('message', (event) => {
        received.push(String(event.data));
        if (received.length === 3) resolve();
      }),
    );
    for (const text of ['one', 'two', 'x'.repeat(1000)]) ws.send(text);
    await all;
    assert.deepEqual(received, ['echo: one', 'echo: two', `echo: ${'x'.repeat(1000)}`]);
    ws.close();
    await once(ws, 'close');
    const seen = upstream.seen[0] as IncomingHttpHeaders;
    assert.equal(seen.authorization, undefined);
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.ok(seen['sec-websocket-key']);
    // The tunnel is recorded as 101 once it closes.
    await app.stop();
    const access = log.records().filter((line) => line.access !== undefined).map((line) => line.access as { status: number; route: string });
    assert.deepEqual(access.map((a) => [a.route, a.status]), [['ws', 101]]);
  });

  it('refuses a WebSocket without a key (401) and maps an upstream refusal to 502, coded', async () => {
    const upstream = await echoUpstream();
    const { app, gatewayUrl } = await startApp({ gateway: { routes: [{ name: 'ws', prefix: '/ws/', stripPrefix: true, upstream: upstream.url }] } });
    const raw = async (path: string, extra = ''): Promise<string> => {
      const { connect } = await import('node:net');
      const socket = connect(Number(new URL(gatewayUrl).port), '127.0.0.1');
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`);
      let out = '';
      socket.on('data', (d: Buffer) => (out += d.toString()));
      await once(socket, 'close');
      return out;
    };
    const denied = await raw('/ws/chat');
    assert.match(denied, /^HTTP\/1.1 401 /);
    assert.match(denied, /"code":"VGL_AUTH_MISSING"/);
    assert.equal(upstream.seen.length, 0);
    const { plaintext } = await app.keys.create({ name: 'ws', scopes: [], expiresAt: null, now: Date.now() });
    await app.keyCache.refresh();
    const refused = await raw('/ws/refuse', `x-api-key: ${plaintext}\r\n`);
    assert.match(refused, /^HTTP\/1.1 502 /);
    assert.match(refused, /"code":"VGL_GATEWAY_UPSTREAM_UNREACHABLE"/);
    const missing = await raw('/nowhere');
    assert.match(missing, /^HTTP\/1.1 404 /);
  });
});
