import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { parseConfig } from '../../src/config/load.js';
import { isVigilError } from '../../src/core/errors.js';
import { startApp, startServer } from '../support/helpers.js';

async function headerUpstream() {
  const seen: IncomingHttpHeaders[] = [];
  const { url } = await startServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'text/plain', server: 'upstream/1.2.3', 'x-powered-by': 'secret-stack', 'x-kept': 'yes' });
    res.end('ok');
  });
  return { url, seen };
}

const SPOOFED = {
  'x-forwarded-for': '203.0.113.9',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'evil.example',
  forwarded: 'for=198.51.100.1;proto=https',
};

describe('gateway forwarding headers', () => {
  it('replaces X-Forwarded-* and Forwarded from an untrusted peer, so a caller cannot spoof its address', async () => {
    const upstream = await headerUpstream();
    const { gatewayUrl } = await startApp({
      gateway: { trustedProxies: ['10.0.0.0/8'], routes: [{ name: 'r', prefix: '/r/', upstream: upstream.url, auth: 'none' }] },
    });
    const res = await request(`${gatewayUrl}/r/x`, { headers: SPOOFED });
    await res.body.dump();
    const seen = upstream.seen[0] as IncomingHttpHeaders;
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.match(String(seen['x-forwarded-host']), /^127\.0\.0\.1:\d+$/);
    assert.match(String(seen.forwarded), /^for=127\.0\.0\.1;proto=http;host="127\.0\.0\.1:\d+"$/);
  });

  it('from a trusted proxy CIDR keeps and extends X-Forwarded-* (the header the client address is read from); Forwarded is rebuilt from it', async () => {
    const upstream = await headerUpstream();
    const { gatewayUrl } = await startApp({
      gateway: { trustedProxies: ['127.0.0.0/8', '::1'], routes: [{ name: 'r', prefix: '/r/', upstream: upstream.url, auth: 'none' }] },
    });
    const res = await request(`${gatewayUrl}/r/x`, { headers: SPOOFED });
    await res.body.dump();
    const seen = upstream.seen[0] as IncomingHttpHeaders;
    assert.equal(seen['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'https');
    assert.equal(seen['x-forwarded-host'], 'evil.example');
    assert.match(String(seen.forwarded), /^for=203\.0\.113\.9, for=127\.0\.0\.1;proto=http;host="127\.0\.0\.1:\d+"$/, 'the caller’s own Forwarded is not passed on');
  });

  it('injects the upstream credential from the environment; the caller never holds it and it never reaches the log', async () => {
    const upstream = await headerUpstream();
    const providerKey = 'sk-provider-Canary-7c1e99d0';
    const { app, gatewayUrl, log } = await startApp(
      {
        gateway: {
          routes: [
            {
              name: 'llm',
              prefix: '/llm/',
              upstream: upstream.url,
              headers: {
                request: { set: { Authorization: 'Bearer ${PROVIDER_KEY}', 'X-Team': 'agents' }, remove: ['x-debug'] },
                response: { set: { 'x-served-by': 'vigil' }, remove: ['server', 'X-Powered-By'] },
              },
            },
          ],
        },
      },
      { PROVIDER_KEY: providerKey },
    );
    const { plaintext } = await app.keys.create({ name: 'caller', scopes: [], expiresAt: null, now: Date.now() });
    await app.keyCache.refresh();
    const res = await request(`${gatewayUrl}/llm/v1/chat`, { headers: { authorization: `Bearer ${plaintext}`, 'x-debug': '1', 'x-team': 'spoof' } });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    const seen = upstream.seen[0] as IncomingHttpHeaders;
    assert.equal(seen.authorization, `Bearer ${providerKey}`);
    assert.equal(seen['x-team'], 'agents', 'a header the route sets replaces the one the caller sent');
    assert.equal(seen['x-debug'], undefined);
    assert.equal(res.headers.server, undefined);
    assert.equal(res.headers['x-powered-by'], undefined);
    assert.equal(res.headers['x-served-by'], 'vigil');
    assert.equal(res.headers['x-kept'], 'yes');
    // A caller that puts its Vigil key or the provider key in the query: the access line must not keep either.
    const leaky = await request(`${gatewayUrl}/llm/v1/chat?api_key=${plaintext}&other=${providerKey}`, { headers: { 'x-api-key': plaintext } });
    await leaky.body.dump();
    app.logger.info({ detail: `upstream answered for ${providerKey}` }, 'diagnostic line that must be scrubbed');
    app.logger.flush();
    assert.ok(log.lines.length > 0);
    assert.ok(!log.text.includes(providerKey), 'the provider key never appears in the log');
    assert.ok(!log.text.includes(plaintext), "the caller's Vigil key never appears in the log");
    const access = log.records().filter((line) => line.access !== undefined);
    assert.equal(access.length, 2);
    assert.match(JSON.stringify(access[1]), /api_key=\[REDACTED\]&other=\[REDACTED\]/);
  });

  it('propagates W3C traceparent upstream: continues a valid trace with a new parent id, starts one otherwise', async () => {
    const upstream = await headerUpstream();
    const { gatewayUrl } = await startApp({ gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: upstream.url, auth: 'none' }] } });
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    for (const traceparent of [incoming, 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', undefined]) {
      const res = await request(`${gatewayUrl}/r/x`, { headers: traceparent === undefined ? {} : { traceparent } });
      await res.body.dump();
    }
    const sent = upstream.seen.map((h) => String(h.traceparent));
    for (const value of sent) assert.match(value, /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
    assert.match(sent[0] as string, /^00-4bf92f3577b34da6a3ce929d0e0e4736-(?!00f067aa0ba902b7)[0-9a-f]{16}-01$/, 'same trace, new parent id, flags kept');
    for (const value of sent.slice(1)) assert.ok(!value.includes('4bf92f35') && !value.startsWith('00-00000000000000000000000000000000'), value);
    assert.equal(new Set(sent.map((v) => v.split('-')[2])).size, 4, 'a fresh parent id per request');
  });

  it('rejects hostile header rules and trusted-proxy entries at load, with their paths', () => {
    const config = {
      gateway: {
        trustedProxies: ['10.0.0.0/33', 'not-an-ip', '::1/129'],
        routes: [
          {
            name: 'r',
            prefix: '/r/',
            upstream: 'http://127.0.0.1:1',
            headers: {
              request: { set: { 'X-Inject': 'a\r\nX-Evil: 1', 'bad name': 'v', Host: 'other' }, remove: ['x-forwarded-for'] },
              response: { remove: ['content-length'] },
            },
          },
        ],
      },
    };
    let error: unknown;
    try {
      parseConfig(JSON.stringify(config), 'hostile.yaml', {});
    } catch (err) {
      error = err;
    }
    assert.ok(isVigilError(error) && error.code === 'VGL_CONFIG_INVALID', String(error));
    const message = (error as Error).message;
    for (const path of [
      'gateway.trustedProxies[0]',
      'gateway.trustedProxies[1]',
      'gateway.trustedProxies[2]',
      'gateway.routes[0].headers.request.set.X-Inject',
      'gateway.routes[0].headers.request.set.bad name',
      'gateway.routes[0].headers.request.set.Host',
      'gateway.routes[0].headers.request.remove[0]',
      'gateway.routes[0].headers.response.remove[0]',
    ]) {
      assert.ok(message.includes(path), `${path} missing from:\n${message}`);
    }
  });
});
