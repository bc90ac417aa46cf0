import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { freePort, startApp, startServer } from '../support/helpers.js';

/** One span as the OTLP/HTTP JSON encoding carries it (ids in hex). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
  status?: { code?: number };
}
interface OtlpExport {
  resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

const SERVER = 2;
const CLIENT = 3;

/** A real OTLP/HTTP receiver on loopback: records every export request's headers and raw JSON body. */
async function otlpReceiver(status = 200) {
  const exports: { headers: IncomingHttpHeaders; body: string; url: string }[] = [];
  const { url } = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      exports.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), url: req.url ?? '' });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  const spans = (): OtlpSpan[] =>
    exports.flatMap((e) => (JSON.parse(e.body) as OtlpExport).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
  return { url, exports, spans };
}

function attr(span: OtlpSpan | undefined, key: string): string | number | undefined {
  const value = span?.attributes.find((a) => a.key === key)?.value;
  if (value?.stringValue !== undefined) return value.stringValue;
  return value?.intValue === undefined ? undefined : Number(value.intValue);
}

/** An upstream that records the traceparent of each request and answers 503 to the first one when `failFirst`. */
async function tracedUpstream(failFirst: boolean) {
  const seen: string[] = [];
  const { url } = await startServer((req, res) => {
    seen.push(String(req.headers.traceparent));
    res.writeHead(failFirst && seen.length === 1 ? 503 : 200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  return { url, seen };
}

describe('gateway tracing (OpenTelemetry, OTLP/HTTP)', () => {
  it('exports a server span per request and a client span per attempt, propagating each attempt as traceparent', async () => {
    const receiver = await otlpReceiver();
    const upstream = await tracedUpstream(true);
    const { app, gatewayUrl, log } = await startApp({
      gateway: { routes: [{ name: 'chat', prefix: '/chat/', upstream: upstream.url, upstreams: { retry: { attempts: 1, backoff: '1ms' } } }] },
      tracing: { enabled: true, endpoint: `${receiver.url}/otlp/traces`, sampleRatio: 1, serviceName: 'vigil-test', headers: { authorization: 'Bearer otlp-token-123456' } },
    });
    const { plaintext } = await app.keys.create({ name: 'caller', scopes: [], expiresAt: null, now: Date.now() });
    await app.keyCache.refresh();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await request(`${gatewayUrl}/chat/v1/completions?api_key=${plaintext}&user=jane.doe@example.com`, {
      headers: { authorization: `Bearer ${plaintext}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'user-agent': 'agent/1.0' },
    });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    await app.stop(); // flushes the batch

    assert.ok(receiver.exports.length > 0, 'spans were exported on shutdown');
    assert.equal(receiver.exports[0]?.url, "/otlp/traces", "the configured endpoint URL is used as given");
    assert.equal(receiver.exports[0]?.headers.authorization, 'Bearer otlp-token-123456', 'export headers are sent');
    assert.match(String(receiver.exports[0]?.headers['content-type']), /json/);
    const spans = receiver.spans();
    const server = spans.find((s) => s.kind === SERVER);
    const clients = spans.filter((s) => s.kind === CLIENT);
    assert.ok(server, 'one server span');
    assert.equal(spans.filter((s) => s.kind === SERVER).length, 1);
    assert.equal(server.name, 'GET chat');
    assert.equal(server.traceId, traceId, "the caller's trace continues");
    assert.equal(server.parentSpanId, '00f067aa0ba902b7', "the caller's span is the parent");
    assert.equal(attr(server, 'http.request.method'), 'GET');
    assert.equal(attr(server, 'url.path'), '/chat/v1/completions', 'the path without its query');
    assert.equal(attr(server, 'http.response.status_code'), 200);
    assert.equal(attr(server, 'vigil.route'), 'chat');
    assert.equal(attr(server, 'server.address'), '127.0.0.1');
    assert.equal(attr(server, 'user_agent.original'), 'agent/1.0');
    assert.ok(attr(server, 'vigil.key_id'), 'the key id (not the key) is recorded');

    assert.equal(clients.length, 2, 'the retry is visible: one client span per attempt');
    for (const client of clients) {
      assert.equal(client.traceId, traceId);
      assert.equal(client.parentSpanId, server.spanId, 'attempts are children of the server span');
      assert.equal(client.name, 'GET');
    }
    const [first, second] = [...clients].sort((a, b) => Number(attr(a, 'http.request.resend_count') ?? 0) - Number(attr(b, 'http.request.resend_count') ?? 0));
    assert.equal(attr(first, 'http.response.status_code'), 503);
    assert.equal(first?.status?.code, 2, 'the failed attempt is an error');
    assert.equal(attr(first, 'error.type'), '503');
    assert.equal(attr(second, 'http.request.resend_count'), 1);
    assert.equal(attr(second, 'http.response.status_code'), 200);
    assert.equal(attr(second, 'url.full'), `${upstream.url}/chat/v1/completions`);
    assert.equal(attr(second, 'server.port'), Number(new URL(upstream.url).port));
    assert.deepEqual(
      upstream.seen,
      [first, second].map((s) => `00-${traceId}-${s?.spanId}-01`),
      'each attempt carries its own client span as the upstream parent',
    );

    const resource = JSON.parse(receiver.exports[0]?.body ?? '{}') as OtlpExport;
    assert.equal(attr({ attributes: resource.resourceSpans[0]?.resource.attributes ?? [] } as OtlpSpan, 'service.name'), 'vigil-test');
    const exported = receiver.exports.map((e) => e.body).join('\n');
    assert.ok(!exported.includes(plaintext), 'the API key never reaches a span (header or query)');
    assert.ok(!exported.includes('jane.doe@example.com') && !exported.includes('api_key='), 'no query string in spans');
    assert.ok(!log.text.includes('otlp-token-123456'), 'the export token is not logged');
  });

  it('samples by ratio: 0 exports nothing for new traces, yet the upstream still gets a traceparent (not sampled)', async () => {
    const receiver = await otlpReceiver();
    const upstream = await tracedUpstream(false);
    const { app, gatewayUrl } = await startApp({
      gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: upstream.url, auth: 'none' }] },
      tracing: { enabled: true, endpoint: receiver.url, sampleRatio: 0 },
    });
    for (let i = 0; i < 5; i++) {
      const res = await request(`${gatewayUrl}/r/x`);
      await res.body.dump();
    }
    await app.stop();
    assert.equal(receiver.spans().length, 0);
    assert.equal(upstream.seen.length, 5);
    for (const traceparent of upstream.seen) assert.match(traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    assert.equal(new Set(upstream.seen.map((t) => t.slice(3, 35))).size, 5, 'a new trace per request');
  });

  it('samples new traces at the ratio (not squared) and never samples under an unsampled parent, even at ratio 1', async () => {
    const receiver = await otlpReceiver();
    const upstream = await tracedUpstream(false);
    const half = await startApp({
      gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: upstream.url, auth: 'none' }] },
      tracing: { enabled: true, endpoint: receiver.url, sampleRatio: 0.5 },
    });
    for (let i = 0; i < 400; i++) await (await request(`${half.gatewayUrl}/r/x`)).body.dump();
    await half.app.stop();
    const sampled = receiver.spans().filter((s) => s.kind === SERVER).length;
    // Binomial(400, 0.5): mean 200, sd 10; a ratio applied twice would give ~100.
    assert.ok(sampled > 150 && sampled < 250, `${sampled} of 400 sampled`);
    const flags = upstream.seen.map((t) => t.slice(-2));
    assert.equal(flags.filter((f) => f === '01').length, sampled, 'exactly the sampled requests tell the upstream so');

    const all = await otlpReceiver();
    const seen = await tracedUpstream(false);
    const one = await startApp({
      gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: seen.url, auth: 'none' }] },
      tracing: { enabled: true, endpoint: all.url, sampleRatio: 1 },
    });
    const unsampled = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
    await (await request(`${one.gatewayUrl}/r/x`, { headers: { traceparent: unsampled } })).body.dump();
    await one.app.stop();
    assert.equal(all.spans().length, 0);
    assert.match(seen.seen[0] ?? '', /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/, 'the caller trace continues unsampled');
    assert.notEqual(seen.seen[0]?.slice(36, 52), 'b7ad6b7169203331', 'with the gateway hop as parent');
  });

  it('follows a sampled parent even at ratio 0 (parent-based), and a 404 gets a server span too', async () => {
    const receiver = await otlpReceiver();
    const upstream = await tracedUpstream(false);
    const { app, gatewayUrl } = await startApp({
      gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: upstream.url, auth: 'none' }] },
      tracing: { enabled: true, endpoint: `${receiver.url}/`, sampleRatio: 0 },
    });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    for (const path of ['/r/x', '/nowhere']) {
      const res = await request(`${gatewayUrl}${path}`, { headers: { traceparent } });
      await res.body.dump();
    }
    await app.stop();
    assert.equal(receiver.exports[0]?.url, '/v1/traces', 'an endpoint without a path gets /v1/traces');
    const spans = receiver.spans();
    const servers = spans.filter((s) => s.kind === SERVER);
    assert.equal(servers.length, 2);
    const missing = servers.find((s) => attr(s, 'http.response.status_code') === 404);
    assert.equal(missing?.name, 'GET', 'no route: named by the method only');
    assert.equal(attr(missing, 'vigil.error_code'), 'VGL_GATEWAY_NO_ROUTE');
    assert.equal(spans.filter((s) => s.kind === CLIENT).length, 1);
    assert.match(upstream.seen[0] ?? '', /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  });

  it('is off by default; an unreachable receiver is logged with a code and never fails a request', async () => {
    const upstream = await tracedUpstream(false);
    const off = await startApp({ gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: upstream.url, auth: 'none' }] } });
    assert.equal(off.app.tracing, undefined);
    assert.equal(off.app.loaded.config.tracing.enabled, false);

    const dead = await freePort();
    const { app, gatewayUrl, log } = await startApp({
      gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: upstream.url, auth: 'none' }] },
      tracing: { enabled: true, endpoint: `http://127.0.0.1:${dead}/v1/traces`, sampleRatio: 1, headers: { 'x-otlp-key': 'otlp-secret-value-42' } },
      shutdown: { timeout: '3s' },
    });
    const res = await request(`${gatewayUrl}/r/x`);
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    await app.stop();
    app.logger.flush();
    const failed = log.records().filter((r) => r.code === 'VGL_TRACING_EXPORT_FAILED');
    assert.ok(failed.length > 0, log.text);
    assert.ok(!log.text.includes('otlp-secret-value-42'));
  });
});
