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
import { startApp, startServer } from '../support/helpers.js';

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

async function send(url: string, headers: Record<string, string>): Promise<number> {
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
    assert.match(String(upstream.seen[0]?.forwarded), /^for=127\.0\.0\.1;proto=http/);
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
    assert.equal(clientAddress('::ffff:192.0.2.9', undefined, xff('203.0.113.1')), '192.0.2.9', 'no trusted proxies: the peer, as plain IPv4');
  });
});
