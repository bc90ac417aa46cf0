import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { configError, startApp, startServer } from '../support/helpers.js';
import { coalescedEvents } from './limits-support.js';


async function corsGateway() {
  const seen: string[] = [];
  const up = await startServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json', vary: 'Accept-Encoding', 'access-control-allow-origin': '*' });
    res.end('{}');
  });
  const started = await startApp({
    gateway: {
      routes: [
        {
          name: 'api',
          prefix: '/api/',
          upstream: up.url,
          methods: ['GET', 'POST', 'DELETE'],
          cors: {
            origins: ['https://app.example.com', 'https://*.example.org', { regex: '^https://tenant-[0-9]{1,6}\\.example\\.net$' }],
            methods: ['GET', 'POST', 'DELETE'],
            allowHeaders: ['authorization', 'content-type', 'x-trace'],
            exposeHeaders: ['x-request-id', 'x-usage'],
            credentials: true,
            maxAge: '5m',
          },
        },
        { name: 'open', prefix: '/open/', upstream: up.url, auth: 'none', cors: { origins: ['*'] } },
      ],
    },
  });
  return { ...started, seen };
}

function preflight(url: string, origin: string, method: string, headers?: string) {
  const h: Record<string, string> = { origin, 'access-control-request-method': method };
  if (headers) h['access-control-request-headers'] = headers;
  return request(url, { method: 'OPTIONS', headers: h });
}

describe('CORS', () => {
  it('answers allowed preflights at the gateway (before auth, without the upstream) and refuses the rest with a coded 403', async () => {
    const { gatewayUrl, seen, app } = await corsGateway();
    const allowed: [string, string, string | undefined][] = [
      ['https://app.example.com', 'POST', 'Content-Type, Authorization'],
      ['https://a.example.org', 'DELETE', undefined],
      ['https://deep.sub.example.org', 'GET', 'x-trace'],
      ['https://tenant-42.example.net', 'GET', 'accept'],
    ];
    for (const [origin, method, headers] of allowed) {
      const res = await preflight(`${gatewayUrl}/api/v1/chat`, origin, method, headers);
      assert.equal(res.statusCode, 204, `${origin} ${method}`);
      await res.body.dump();
      assert.equal(res.headers['access-control-allow-origin'], origin);
      assert.equal(res.headers['access-control-allow-credentials'], 'true');
      assert.equal(res.headers['access-control-allow-methods'], 'GET, POST, DELETE');
      assert.equal(res.headers['access-control-allow-headers'], 'authorization, content-type, x-trace');
      assert.equal(res.headers['access-control-max-age'], '300');
      assert.match(String(res.headers.vary), /Origin/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
    const denied: [string, string, string | undefined, string][] = [
      ['https://evil.example.com', 'GET', undefined, 'origin'],
      ['https://example.org', 'GET', undefined, 'origin'], // the wildcard needs a subdomain
      ['http://a.example.org', 'GET', undefined, 'origin'], // scheme differs
      ['https://a.example.org.evil.com', 'GET', undefined, 'origin'],
      ['https://tenant-42.example.net.evil.com', 'GET', undefined, 'origin'],
      ['null', 'GET', undefined, 'origin'],
      ['https://app.example.com', 'PUT', undefined, 'method'],
      ['https://app.example.com', 'POST', 'x-secret', 'header'],
    ];
    for (const [origin, method, headers, reason] of denied) {
      const res = await preflight(`${gatewayUrl}/api/v1/chat`, origin, method, headers);
      assert.equal(res.statusCode, 403, `${origin} ${method} ${headers ?? ''}`);
      const body = (await res.body.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'VGL_CORS_DENIED');
      assert.match(body.error.message, new RegExp(reason));
      assert.equal(res.headers['access-control-allow-origin'], undefined);
    }
    // The route lists its methods without OPTIONS: preflights still reach the CORS stage, other OPTIONS do not.
    const plainOptions = await request(`${gatewayUrl}/api/v1/chat`, { method: 'OPTIONS' });
    assert.equal(plainOptions.statusCode, 405);
    assert.equal(((await plainOptions.body.json()) as { error: { code: string } }).error.code, 'VGL_GATEWAY_METHOD_NOT_ALLOWED');
    assert.deepEqual(seen, [], 'no preflight reached the upstream');
    // Every refusal is an event; from one address on one route they are coalesced in the store.
    const { events, total } = await coalescedEvents(app, 'cors.preflight_denied');
    assert.equal(total, denied.length);
    assert.equal(events[0]?.route, 'api');
  });

  it('adds CORS headers and Vary: Origin to actual responses, replacing the upstream’s own', async () => {
    const { gatewayUrl } = await corsGateway();
    const allowed = await request(`${gatewayUrl}/open/x`, { headers: { origin: 'https://anyone.example' } });
    await allowed.body.dump();
    assert.equal(allowed.headers['access-control-allow-origin'], '*');
    assert.equal(allowed.headers['access-control-allow-credentials'], undefined);
    assert.equal(allowed.headers['access-control-expose-headers'], 'x-request-id');
    assert.equal(allowed.headers.vary, 'Accept-Encoding, Origin');

    // The keyed route: a rejection (401) still carries CORS headers so the page can read the error.
    const unauthorised = await request(`${gatewayUrl}/api/x`, { headers: { origin: 'https://app.example.com' } });
    assert.equal(unauthorised.statusCode, 401);
    await unauthorised.body.dump();
    assert.equal(unauthorised.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(unauthorised.headers['access-control-allow-credentials'], 'true');
    assert.equal(unauthorised.headers['access-control-expose-headers'], 'x-request-id, x-usage');

    const foreign = await request(`${gatewayUrl}/api/x`, { headers: { origin: 'https://evil.example.com' } });
    await foreign.body.dump();
    assert.equal(foreign.headers['access-control-allow-origin'], undefined);
    assert.match(String(foreign.headers.vary), /Origin/);
  });

  it('rejects unsafe CORS settings at load', () => {
    const route = (cors: unknown) => ({ gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: 'http://127.0.0.1:1', cors }] } });
    assert.match(configError(route({ origins: ['*'], credentials: true })), /credentials/);
    assert.match(configError(route({ origins: [{ regex: '^(a+)+$' }] })), /backtrack/);
    assert.match(configError(route({ origins: [{ regex: 'https://x\\.com' }] })), /anchored/);
    assert.match(configError(route({ origins: [{ regex: '^([a-z]$' }] })), /compile/);
    assert.match(configError(route({ origins: ['*.example.com'] })), /wildcard/);
    assert.match(configError(route({ origins: ['https://app.example.com/'] })), /trailing slash/);
    assert.match(configError(route({ origins: ['https://a*b.example.com'] })), /wildcard/);
    assert.match(configError(route({ origins: ['https://x.com'], methods: ['get'] })), /methods/);
    assert.match(configError(route({ origins: ['https://x.com'], maxAge: '2d' })), /maxAge/);
    assert.match(configError(route({ origins: ['https://x.com'], allowHeaders: ['x y'] })), /allowHeaders\[0\].*HTTP header name/);
    assert.match(configError(route({ origins: ['https://x.com'], exposeHeaders: ['x-a\r\nx-b'] })), /exposeHeaders\[0\].*HTTP header name/);
  });
});
