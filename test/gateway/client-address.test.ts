import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { App } from '../../src/app.js';
import { clientAddress } from '../../src/gateway/client-address.js';
import { cidrList } from '../../src/protection/ip-filter.js';
import type { SecurityEvent } from '../../src/store/records.js';
import type { LogCapture } from '../support/helpers.js';
import { rawExchange, startApp, startServer } from '../support/helpers.js';

/** An upstream that keeps the headers of every request it answers. */
async function headerUpstream() {
  const seen: IncomingHttpHeaders[] = [];
  const { url } = await startServer((req, res) => {
    seen.push(req.headers);
    res.end('ok');
  });
  return { url, seen };
}

/** A real OTLP/HTTP receiver on loopback: the attributes of the server spans it was sent. */
async function otlpReceiver() {
  const bodies: string[] = [];
  const { url } = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.end('{}');
    });
  });
  type Attributes = { key: string; value: { stringValue?: string } }[];
  type Export = { resourceSpans: { scopeSpans: { spans: { kind: number; attributes: Attributes }[] }[] }[] };
  const serverSpans = () =>
    bodies
      .flatMap((b) => (JSON.parse(b) as Export).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)))
      .filter((s) => s.kind === 2)
      .map((s) => Object.fromEntries(s.attributes.map((a) => [a.key, a.value.stringValue])));
  return { url, serverSpans };
}

async function send(url: string, headers: Record<string, string | string[]>): Promise<number> {
  const res = await request(url, { headers });
  await res.body.dump();
  return res.statusCode;
}

/** The client address of each access line, by request ID. */
function accessIps(log: LogCapture): Map<string, string> {
  const lines = log.records().filter((r) => r.msg === 'request').map((r) => r.access as { requestId: string; clientIp: string });
  return new Map(lines.map((a) => [a.requestId, a.clientIp]));
}

async function authEvents(app: App): Promise<SecurityEvent[]> {
  await sleep(50);
  return app.store.securityEvents.recent(100, 'auth.gateway_rejected');
}

describe('the resolved client address', () => {
  it('behind a trusted proxy, records, events, key last use and the span name the client; X-Forwarded-For upstream appends the proxy', async () => {
    const upstream = await headerUpstream();
    const receiver = await otlpReceiver();
    const { app, gatewayUrl, log } = await startApp({
      gateway: { trustedProxies: ['127.0.0.1', '10.9.0.0/16'], routes: [{ name: 'agents', prefix: '/agents/', upstream: upstream.url }] },
      tracing: { enabled: true, endpoint: receiver.url, sampleRatio: 1 },
    });
    const { key, plaintext } = await app.keys.create({ name: 'ci', scopes: [], expiresAt: null, now: Date.now() });
    await app.keyCache.refresh();
    // The client's own left-hand claim is ignored; the hop before our trusted proxies is the client.
    const forwarded = '192.0.2.1, 203.0.113.7, 10.9.0.5';
    assert.equal(await send(`${gatewayUrl}/agents/x`, { 'x-api-key': plaintext, 'x-forwarded-for': forwarded, 'x-request-id': 'ok-1' }), 200);
    assert.equal(await send(`${gatewayUrl}/agents/x`, { 'x-forwarded-for': '203.0.113.8', 'x-request-id': 'denied-1' }), 401);

    assert.equal(upstream.seen[0]?.['x-forwarded-for'], `${forwarded}, 127.0.0.1`, 'the direct peer is appended');
    assert.match(String(upstream.seen[0]?.forwarded), /^for=192\.0\.2\.1, for=203\.0\.113\.7, for=10\.9\.0\.5, for=127\.0\.0\.1;proto=http/, 'rebuilt from X-Forwarded-For');
    const ips = accessIps(log);
    assert.equal(ips.get('ok-1'), '203.0.113.7');
    assert.equal(ips.get('denied-1'), '203.0.113.8');
    const [event] = await authEvents(app);
    assert.equal(event?.sourceIp, '203.0.113.8');
    await app.keyCache.flushUsage();
    assert.equal((await app.store.keys.get(key.id))?.lastUsedIp, '203.0.113.7');

    await app.stop(); // flushes the spans
    const spans = receiver.serverSpans();
    const ok = spans.find((s) => s['vigil.request_id'] === 'ok-1');
    assert.equal(ok?.['client.address'], '203.0.113.7');
    assert.equal(ok?.['network.peer.address'], '127.0.0.1');
  });

  it('from an untrusted peer a spoofed X-Forwarded-For is ignored everywhere', async () => {
    const upstream = await headerUpstream();
    const { app, gatewayUrl, log } = await startApp({
      gateway: { trustedProxies: ['10.0.0.0/8'], routes: [{ name: 'agents', prefix: '/agents/', upstream: upstream.url }] },
    });
    const { key, plaintext } = await app.keys.create({ name: 'ci', scopes: [], expiresAt: null, now: Date.now() });
    await app.keyCache.refresh();
    assert.equal(await send(`${gatewayUrl}/agents/x`, { 'x-api-key': plaintext, 'x-forwarded-for': '203.0.113.7', 'x-request-id': 'ok-1' }), 200);
    assert.equal(await send(`${gatewayUrl}/agents/x`, { 'x-forwarded-for': '203.0.113.8', 'x-request-id': 'denied-1' }), 401);
    assert.equal(upstream.seen[0]?.['x-forwarded-for'], '127.0.0.1');
    const ips = accessIps(log);
    assert.equal(ips.get('ok-1'), '127.0.0.1');
    assert.equal(ips.get('denied-1'), '127.0.0.1');
    const [event] = await authEvents(app);
    assert.equal(event?.sourceIp, '127.0.0.1');
    await app.keyCache.flushUsage();
    assert.equal((await app.store.keys.get(key.id))?.lastUsedIp, '127.0.0.1');
  });
  it('walks X-Forwarded-For from the right past trusted hops; a malformed element stops at the last trusted hop', () => {
    const trusted = cidrList(['10.0.0.0/8']);
    const xff = (value: string) => ({ 'x-forwarded-for': value });
    assert.equal(clientAddress('10.0.0.1', trusted, xff('192.0.2.7, 203.0.113.1, 10.0.0.2')), '203.0.113.1');
    assert.equal(clientAddress('10.0.0.1', trusted, xff('203.0.113.1, junk, 10.0.0.2')), '10.0.0.2');
    assert.equal(clientAddress('10.0.0.1', trusted, xff('10.0.0.3')), '10.0.0.3', 'only trusted hops: the farthest one');
    assert.equal(clientAddress('::ffff:10.0.0.1', trusted, xff('[2001:db8::1]:443')), '2001:db8::1');
    assert.equal(clientAddress('10.0.0.1', trusted, xff('198.51.100.4:5678')), '198.51.100.4');
    assert.equal(clientAddress('10.0.0.1', trusted, {}), '10.0.0.1');
    assert.equal(clientAddress('192.0.2.9', trusted, xff('203.0.113.1')), '192.0.2.9', 'an untrusted peer');
    assert.equal(clientAddress('192.0.2.9', undefined, xff('203.0.113.1')), '192.0.2.9', 'no trusted proxies: the peer (made plain IPv4 where dispatch reads the socket: forwarding-chain.test.ts)');
  });
});

describe('the client address from RFC 7239 Forwarded (gateway.clientAddressHeader: forwarded)', () => {
  const gateway = (upstream: string, extra: Record<string, unknown> = {}) => ({
    trustedProxies: ['127.0.0.1', '10.9.0.0/16'],
    clientAddressHeader: 'forwarded',
    routes: [{ name: 'agents', prefix: '/agents/', upstream, auth: 'none' }],
    ...extra,
  });

  it('walks Forwarded from the right past trusted proxies; a hop without an address stops at the last trusted one; X-Forwarded-For is not read', async () => {
    const upstream = await headerUpstream();
    const { app, gatewayUrl, log } = await startApp({ gateway: gateway(upstream.url) });
    const cases: [string, Record<string, string | string[]>, string][] = [
      ['v6', { forwarded: 'for=192.0.2.1, for="[2001:db8::7]:4711";proto=https, for=10.9.0.5', 'x-forwarded-for': '198.51.100.99' }, '2001:db8::7'],
      ['lines', { forwarded: ['for=192.0.2.1', 'For="198.51.100.2:8080";Proto=https', 'FOR=10.9.0.5;by=10.9.0.1'] }, '198.51.100.2'],
      ['v4', { forwarded: 'for=198.51.100.3' }, '198.51.100.3'],
      ['xff-only', { 'x-forwarded-for': '198.51.100.99' }, '127.0.0.1'],
      ['unknown', { forwarded: 'for=198.51.100.4, for=unknown, for=10.9.0.5' }, '10.9.0.5'],
      ['hidden', { forwarded: 'for=198.51.100.4, for="_hidden"' }, '127.0.0.1'],
      ['no-for', { forwarded: 'for=198.51.100.4, proto=https;host="example.com"' }, '127.0.0.1'],
      ['quoted-comma', { forwarded: 'for="198.51.100.5, for=10.9.0.9", for=10.9.0.5' }, '10.9.0.5'],
      ['garbage', { forwarded: 'for=;;=,,"\\ for=[::1' }, '127.0.0.1'],
      ['trusted-only', { forwarded: 'for=10.9.0.7, for=10.9.0.5' }, '10.9.0.7'],
    ];
    for (const [id, headers, _client] of cases) assert.equal(await send(`${gatewayUrl}/agents/x`, { ...headers, 'x-request-id': id }), 200, id);
    const ips = accessIps(log);
    for (const [id, , client] of cases) assert.equal(ips.get(id), client, id);
    assert.match(String(upstream.seen[0]?.forwarded), /^for=192\.0\.2\.1, for="\[2001:db8::7\]:4711";proto=https, for=10\.9\.0\.5, for=127\.0\.0\.1;proto=http/, 'kept and appended to');
    assert.equal(upstream.seen[0]?.['x-forwarded-for'], '192.0.2.1, 2001:db8::7, 10.9.0.5, 127.0.0.1', 'rebuilt from Forwarded, the caller’s own not passed on');
    // Bytes no HTTP client library would send: refused by hygiene, and still recorded under the
    // address the walk found before them (a Latin-1 value is not an address).
    const answer = await rawExchange(app.gateway.address().port, Buffer.from('GET /agents/x HTTP/1.1\r\nHost: x\r\nX-Request-Id: raw-1\r\nForwarded: for="\xff\xfe", for=10.9.0.5\r\nConnection: close\r\n\r\n', 'latin1'));
    assert.match(answer, /^HTTP\/1\.1 400[^]*VGL_GATEWAY_INVALID_ENCODING/);
    assert.equal(accessIps(log).get('raw-1'), '10.9.0.5');
  });

  it('a client behind a trusted proxy cannot change the address the proxy appended, however it shapes its own Forwarded', async () => {
    const upstream = await headerUpstream();
    const { app, gatewayUrl } = await startApp({ gateway: gateway(upstream.url), protection: { ipFilter: { deny: ['203.0.113.66'] } } });
    // What the proxy received from the denied client, followed by the hop the proxy appended.
    const claims = ['for=198.51.100.1', 'for=10.9.0.5', 'for=unknown', 'for="_hidden"', 'for="198.51.100.1', 'for=198.51.100.1;for=10.9.0.5', 'for="\\"', '"'.repeat(3)];
    for (const claim of claims) {
      assert.equal(await send(`${gatewayUrl}/agents/x`, { forwarded: `${claim}, for=203.0.113.66` }), 403, claim);
      assert.equal(await send(`${gatewayUrl}/agents/x`, { forwarded: [claim, 'for=203.0.113.66'] }), 403, `${claim} (own line)`);
    }
    await sleep(50);
    const events = await app.store.securityEvents.recent(100, 'ipfilter.denied');
    assert.ok(events.length > 0);
    assert.deepEqual([...new Set(events.map((e) => e.sourceIp))], ['203.0.113.66']);
    assert.equal(upstream.seen.length, 0);
  });

  it('from an untrusted peer a spoofed Forwarded is ignored and replaced upstream', async () => {
    const upstream = await headerUpstream();
    const { gatewayUrl, log } = await startApp({ gateway: gateway(upstream.url, { trustedProxies: ['10.0.0.0/8'] }) });
    assert.equal(await send(`${gatewayUrl}/agents/x`, { forwarded: 'for=203.0.113.7', 'x-request-id': 'spoof-1' }), 200);
    assert.equal(accessIps(log).get('spoof-1'), '127.0.0.1');
    assert.match(String(upstream.seen[0]?.forwarded), /^for=127\.0\.0\.1;proto=http/);
  });

  it('very long and hostile headers (up to gateway.maxHeaderBytes) resolve to the right client, refusals included', async () => {
    const upstream = await headerUpstream();
    // The gateway refuses these itself (no API key), so no upstream has to accept a megabyte of headers.
    const routes = [{ name: 'agents', prefix: '/agents/', upstream: upstream.url }];
    const { app, gatewayUrl, log } = await startApp({ gateway: gateway(upstream.url, { maxHeaderBytes: 1_048_576, routes }) });
    const cases: [string, string, string][] = [
      ['many-hops', `for=203.0.113.50, ${'for=10.9.0.1, '.repeat(60_000)}for=10.9.0.2`, '203.0.113.50'],
      ['open-quote', `for="${'x,'.repeat(300_000)}, for=198.51.100.8`, '198.51.100.8'],
      ['quotes', '"'.repeat(900_000), '127.0.0.1'],
      ['backslashes', `${`${'\\'.repeat(1000)}"`.repeat(800)}, for=10.9.0.3`, '10.9.0.3'],
      ['semicolons', `for=198.51.100.9${';'.repeat(500_000)}`, '198.51.100.9'],
    ];
    for (const [id, forwarded] of cases) assert.equal(await send(`${gatewayUrl}/agents/x`, { forwarded, 'x-request-id': id }), 401, id);
    const ips = accessIps(log);
    for (const [id, , client] of cases) assert.equal(ips.get(id), client, id);
    const events = await authEvents(app);
    for (const [id, , client] of cases) assert.equal(events.find((e) => e.correlationId === id)?.sourceIp, client, id);
  });

  it('parses RFC 7239 nodes: ports (obfuscated too), brackets, escapes, parameter case; anything else ends the trusted chain', () => {
    const trusted = cidrList(['10.0.0.0/8']);
    const fwd = (value: string) => clientAddress('10.0.0.1', trusted, { forwarded: value }, 'forwarded');
    assert.equal(fwd('for=192.0.2.60;proto=http;by=203.0.113.43'), '192.0.2.60');
    assert.equal(fwd('for="[2001:db8:cafe::17]:_p1"'), '2001:db8:cafe::17');
    assert.equal(fwd('for=[2001:db8::2]'), '2001:db8::2', 'an unquoted bracket, as some proxies send it');
    assert.equal(fwd('FoR = 192.0.2.1'), '10.0.0.1', 'no whitespace around =');
    assert.equal(fwd('for=192.0.2.2 ; proto=https , for=10.0.0.2'), '192.0.2.2', 'whitespace around ; and ,');
    assert.equal(fwd('for="\\192.0.2.3"'), '192.0.2.3', 'a quoted-pair');
    assert.equal(fwd('for="::FFFF:10.0.0.5", for=10.0.0.7'), '10.0.0.5', 'a mapped IPv4 hop, any case, is the IPv4 address');
    assert.equal(fwd('for="192.0.2.4:123456"'), '10.0.0.1', 'a port of six digits');
    assert.equal(fwd('for="[2001:db8::1]x"'), '10.0.0.1');
    assert.equal(fwd('for=192.0.2.5;for=10.0.0.9'), '10.0.0.1', 'for twice in one element');
    assert.equal(fwd('for=192.0.2.6;junk'), '10.0.0.1');
    assert.equal(fwd(''), '10.0.0.1');
    assert.equal(clientAddress('10.0.0.1', trusted, { forwarded: 'for=192.0.2.8', 'x-forwarded-for': '192.0.2.9' }), '192.0.2.9', 'x-forwarded-for by default');
    assert.equal(clientAddress('192.0.2.10', trusted, { forwarded: 'for=192.0.2.8' }, 'forwarded'), '192.0.2.10', 'an untrusted peer');
  });
});
