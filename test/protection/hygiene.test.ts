import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { JsonLimitScanner, pathProblem } from '../../src/protection/hygiene.js';
import { rawExchange, startApp, startServer } from '../support/helpers.js';
import { coalescedEvents } from './limits-support.js';

/** Sends bytes exactly as given (Node's client would normalise the path) and reads the whole answer. */
async function raw(gatewayUrl: string, bytes: string | Buffer): Promise<{ status: number; head: string; body: string }> {
  const text = await rawExchange(Number(new URL(gatewayUrl).port), bytes);
  const split = text.indexOf('\r\n\r\n');
  return { status: Number(text.slice(9, 12)), head: text.slice(0, split), body: text.slice(split + 4) };
}

function code(body: string): string {
  const start = body.indexOf('{');
  return (JSON.parse(body.slice(start, body.lastIndexOf('}') + 1)) as { error: { code: string } }).error.code;
}

/** An upstream that records what reached it: request lines and the body bytes of each request. */
async function recordingUpstream() {
  const seen: string[] = [];
  const bodies: Buffer[] = [];
  const up = await startServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('close', () => bodies.push(Buffer.concat(chunks)));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  return { url: up.url, seen, bodies };
}

async function hygieneGateway() {
  const up = await recordingUpstream();
  const started = await startApp({
    gateway: {
      routes: [
        {
          name: 'strict',
          prefix: '/r/',
          upstream: up.url,
          auth: 'none',
          methods: ['GET', 'POST'],
          hygiene: { contentTypes: ['application/json', 'text/*'], json: { maxDepth: 4, maxKeys: 5, maxStringLength: 16 } },
        },
        { name: 'loose', prefix: '/loose/', upstream: up.url, auth: 'none', hygiene: { rejectInvalidUtf8: false, json: { enabled: false } } },
      ],
    },
  });
  return { ...started, up };
}

const REQ = (target: string, extra = ''): string => `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${extra}\r\n`;

describe('protocol hygiene', () => {
  it('rejects encoded traversal, overlong UTF-8, backslashes and null bytes in the path, sent over a raw socket', async () => {
    const { gatewayUrl, up, app } = await hygieneGateway();
    const hostile = [
      '/r/%2e%2e%2fetc/passwd',
      '/r/..%2f..%2fetc/passwd',
      '/r/a/%2E%2E/b',
      '/r/%c0%ae%c0%ae/secret',
      '/r/%c0%afetc',
      '/r/%e0%80%ae%e0%80%ae/x',
      '/r/a%5c..%5cb',
      '/r/a\\..\\b',
      '/r/file%00.txt',
      '/r/%zz',
      '/r/%252e%252e%252fetc',
      '/r/%ff%fe',
    ];
    for (const target of hostile) {
      const res = await raw(gatewayUrl, REQ(target));
      assert.equal(res.status, 400, target);
      assert.ok(['VGL_GATEWAY_PATH_REJECTED', 'VGL_GATEWAY_BAD_REQUEST'].includes(code(res.body)), `${target}: ${res.body}`);
    }
    const fine = await raw(gatewayUrl, REQ('/r/caf%C3%A9/a%2Fb?q=1'));
    assert.equal(fine.status, 200);
    assert.deepEqual(up.seen, ['GET /caf%C3%A9/a%2Fb?q=1'.replace('/', '/r/')]);
    // Some (raw dot segments) are refused before routing; the rest by this stage, each with an event.
    const { events, total } = await coalescedEvents(app, 'hygiene.path_rejected');
    assert.ok(total >= 6, `path rejections: ${total}`);
    assert.equal(events[0]?.route, 'strict');
  });

  it('rejects invalid UTF-8 and null bytes in the query and in header values; valid UTF-8 passes', async () => {
    const { gatewayUrl, up } = await hygieneGateway();
    for (const target of ['/r/x?q=%ff', '/r/x?q=%c0%ae', '/r/x?q=a%00b', '/r/x?q=%g1']) {
      const res = await raw(gatewayUrl, REQ(target));
      assert.equal(res.status, 400, target);
      assert.equal(code(res.body), 'VGL_GATEWAY_INVALID_ENCODING', target);
    }
    const badHeader = await raw(gatewayUrl, Buffer.concat([Buffer.from('GET /r/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Name: '), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('\r\n\r\n')]));
    assert.equal(badHeader.status, 400);
    assert.equal(code(badHeader.body), 'VGL_GATEWAY_INVALID_ENCODING');
    const goodHeader = await raw(gatewayUrl, Buffer.concat([Buffer.from('GET /r/ok?q=%C3%A9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Name: '), Buffer.from('Zoë', 'utf8'), Buffer.from('\r\n\r\n')]));
    assert.equal(goodHeader.status, 200);
    // Switched off per route: the same query passes.
    const loose = await raw(gatewayUrl, REQ('/loose/x?q=%ff'));
    assert.equal(loose.status, 200);
    assert.deepEqual(up.seen, ['GET /r/ok?q=%C3%A9', 'GET /loose/x?q=%ff']);
  });

  it('enforces the route’s methods (405 with Allow) and the content-type allow list (415)', async () => {
    const { gatewayUrl, up } = await hygieneGateway();
    const del = await request(`${gatewayUrl}/r/x`, { method: 'DELETE' });
    assert.equal(del.statusCode, 405);
    assert.match(String(del.headers.allow), /GET.*POST/);
    assert.equal(((await del.body.json()) as { error: { code: string } }).error.code, 'VGL_GATEWAY_METHOD_NOT_ALLOWED');
    const xml = await request(`${gatewayUrl}/r/x`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
    assert.equal(xml.statusCode, 415);
    assert.equal(((await xml.body.json()) as { error: { code: string } }).error.code, 'VGL_GATEWAY_UNSUPPORTED_MEDIA_TYPE');
    const none = await raw(gatewayUrl, 'POST /r/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}');
    assert.equal(none.status, 415);
    const json = await request(`${gatewayUrl}/r/x`, { method: 'POST', headers: { 'content-type': 'Application/JSON; charset=utf-8' }, body: '{"a":1}' });
    assert.equal(json.statusCode, 200);
    await json.body.dump();
    const text = await request(`${gatewayUrl}/r/x`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(text.statusCode, 200);
    await text.body.dump();
    assert.deepEqual(up.seen, ['POST /r/x', 'POST /r/x']);
  });

  it('cuts JSON bodies over the depth, member or string limit as they stream, before the upstream has them whole', async () => {
    const { gatewayUrl, up } = await hygieneGateway();
    const cases: [string, string, number][] = [
      ['{"a":[[[[1]]]]}', 'VGL_GATEWAY_JSON_TOO_COMPLEX', 413],
      ['{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}', 'VGL_GATEWAY_JSON_TOO_COMPLEX', 413],
      ['{"a":"0123456789abcdefXYZ"}', 'VGL_GATEWAY_JSON_TOO_COMPLEX', 413],
      ['{"a":1}}', 'VGL_GATEWAY_JSON_MALFORMED', 400],
      ['{"a":[1}', 'VGL_GATEWAY_JSON_MALFORMED', 400],
      ['{"a":1} {"b":2}', 'VGL_GATEWAY_JSON_MALFORMED', 400],
      ['{"a":"unterminated', 'VGL_GATEWAY_JSON_MALFORMED', 400],
      ['{"a":[1,2', 'VGL_GATEWAY_JSON_MALFORMED', 400],
    ];
    for (const [body, expected, status] of cases) {
      const before = up.bodies.length;
      const res = await raw(gatewayUrl, `POST /r/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      assert.equal(res.status, status, body);
      assert.equal(code(res.body), expected, body);
      for (let i = 0; i < 100 && up.bodies.length === before; i++) await sleep(10);
      const got = up.bodies.at(-1);
      if (up.bodies.length > before) assert.ok((got?.length ?? 0) < body.length, `the upstream got ${got?.length} of ${body.length} bytes of ${body}`);
    }
    // A string with escaped quotes and brackets inside is not structure.
    const tricky = '{"a":"\\"}]","b":[{}]}';
    const ok = await request(`${gatewayUrl}/r/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: tricky });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
    assert.equal(up.bodies.at(-1)?.toString(), tricky);
  });

  it('cuts a chunked JSON body mid-stream: the upstream saw only the bytes before the violation', async () => {
    const up = await recordingUpstream();
    const { gatewayUrl } = await startApp({ gateway: { routes: [{ name: 'j', prefix: '/j/', upstream: up.url, auth: 'none', hygiene: { json: { maxDepth: 8 } } }] } });
    const { port } = new URL(gatewayUrl);
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('POST /j/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    const first = `{"messages":[${'{"role":"user","content":"hi"},'.repeat(200)}`;
    socket.write(`${first.length.toString(16)}\r\n${first}\r\n`);
    // Wait until the upstream has started receiving, then send the hostile part.
    for (let i = 0; i < 200 && up.seen.length === 0; i++) await sleep(10);
    const deep = '['.repeat(50);
    socket.write(`${deep.length.toString(16)}\r\n${deep}\r\n`);
    await closed.catch(() => {});
    const text = Buffer.concat(chunks).toString();
    assert.match(text, /^HTTP\/1\.1 413/);
    assert.match(text, /VGL_GATEWAY_JSON_TOO_COMPLEX/);
    for (let i = 0; i < 100 && up.bodies.length === 0; i++) await sleep(10);
    const got = up.bodies[0]?.toString() ?? '';
    assert.ok(got.length < first.length + deep.length);
    assert.ok(!got.includes('[['.repeat(8)), 'the hostile nesting never reached the upstream');
  });

  it('pathProblem and the scanner on their own: valid inputs pass untouched', () => {
    assert.equal(pathProblem('/v1/chat/completions'), undefined);
    assert.equal(pathProblem('/files/%E2%82%AC'), undefined);
    assert.match(pathProblem('/a/%2e/b') ?? '', /dot segment/);
    const scanner = new JsonLimitScanner({ enabled: true, maxDepth: 64, maxKeys: 10_000, maxStringLength: 1_048_576 }, () => assert.fail('no violation expected'));
    const doc = JSON.stringify({ model: 'x', messages: Array.from({ length: 50 }, (_, i) => ({ role: 'user', content: `m${i} "quoted" \\ [x]` })) });
    const out: Buffer[] = [];
    for (let i = 0; i < doc.length; i += 7) out.push(scanner.push(Buffer.from(doc.slice(i, i + 7))));
    out.push(scanner.end());
    assert.equal(Buffer.concat(out).toString(), doc);
  });
});
