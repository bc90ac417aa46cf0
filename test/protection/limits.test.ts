import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { parseConfig } from '../../src/config/load.js';
import { isVigilError } from '../../src/core/errors.js';
import { startServer, waitFor } from '../support/helpers.js';
import { coalescedEvents, count, eventsOf, get, okUpstream, startProtectedApp, statuses } from './limits-support.js';

function route(upstream: string, extra: Record<string, unknown>) {
  return { name: 'api', prefix: '/api/', upstream, auth: 'none', ...extra };
}

describe('rate limits (memory store, manual clock)', () => {
  it('GCRA admits the burst, then exactly one request per emission interval', async () => {
    const upstream = await okUpstream();
    const { gatewayUrl, clock, app } = await startProtectedApp({
      gateway: { routes: [route(upstream.url, { rateLimits: { limits: [{ name: 'per-ip', by: 'ip', limit: 10, window: '1s', burst: 5 }] } })] },
    });
    const url = `${gatewayUrl}/api/x`;
    const first = await statuses(url, 7);
    assert.deepEqual(first, [200, 200, 200, 200, 200, 429, 429]);
    assert.equal(upstream.stats.requests, 5);
    const refused = await get(url);
    assert.equal(refused.code, 'VGL_RATE_LIMITED');
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.headers['ratelimit-policy'], '"per-ip";q=5;w=1');
    assert.equal(refused.headers['ratelimit'], '"per-ip";r=0;t=1');
    clock.advance(100);
    assert.deepEqual(await statuses(url, 2), [200, 429]);
    clock.advance(250);
    assert.deepEqual(await statuses(url, 3), [200, 200, 429]);
    // A long pause refills up to the burst, never beyond it.
    clock.advance(60_000);
    const refill = await statuses(url, 7);
    assert.equal(count(refill, 200), 5);
    const ok = await get(`${gatewayUrl}/api/y`);
    assert.equal(ok.status, 429);
    clock.advance(1000);
    const fresh = await get(url);
    assert.equal(fresh.status, 200);
    assert.equal(fresh.headers['ratelimit'], '"per-ip";r=4;t=1');
    // Eight refusals, coalesced in the store (about one event a second, the rest counted as suppressed).
    const { events, total } = await coalescedEvents(app, 'ratelimit.exceeded');
    assert.equal(total, 8);
    assert.ok(events.length < 8, `${events.length} stored events`);
    const event = events[0];
    assert.equal(event?.severity, 'medium');
    assert.equal(event?.sourceIp, '127.0.0.1');
    assert.equal(event?.details.route, 'api');
    assert.equal(event?.details.limit, 'per-ip');
    assert.match(event?.correlationId ?? '', /.+/);
  });

  it('sliding window never admits more than limit in any window', async () => {
    const upstream = await okUpstream();
    const { gatewayUrl, clock } = await startProtectedApp({
      gateway: { routes: [route(upstream.url, { rateLimits: { limits: [{ name: 'win', by: 'route', algorithm: 'sliding-window', limit: 3, window: '10s' }] } })] },
    });
    const url = `${gatewayUrl}/api/x`;
    assert.deepEqual(await statuses(url, 2), [200, 200]);
    clock.advance(5000);
    assert.deepEqual(await statuses(url, 2), [200, 429]);
    const refused = await get(url);
    assert.equal(refused.headers['retry-after'], '5');
    clock.advance(5000); // the first two are exactly window-old: expired
    assert.deepEqual(await statuses(url, 3), [200, 200, 429]);
    clock.advance(4999);
    assert.deepEqual(await statuses(url, 1), [429]);
    clock.advance(1);
    assert.deepEqual(await statuses(url, 2), [200, 429]);
  });

  it('several limits: a request refused by one is counted by none', async () => {
    const upstream = await okUpstream();
    const { gatewayUrl, clock } = await startProtectedApp({
      gateway: {
        routes: [
          route(upstream.url, {
            rateLimits: {
              limits: [
                { name: 'burst', by: 'ip', limit: 10, window: '1s', burst: 3 },
                { name: 'minute', by: 'ip', algorithm: 'sliding-window', limit: 5, window: '1m' },
              ],
            },
          }),
        ],
      },
    });
    const url = `${gatewayUrl}/api/x`;
    assert.deepEqual(await statuses(url, 4), [200, 200, 200, 429]);
    clock.advance(1000);
    const second = await get(url);
    assert.equal(second.headers['ratelimit-policy'], '"burst";q=3;w=1, "minute";q=5;w=60');
    assert.equal(second.headers['ratelimit'], '"burst";r=2;t=1, "minute";r=1;t=59');
    assert.deepEqual(await statuses(url, 3), [200, 429, 429]);
    const refused = await get(url);
    assert.match(refused.body, /'minute' exceeded/);
    clock.advance(59_000);
    assert.deepEqual(await statuses(url, 4), [200, 200, 200, 429]);
    assert.equal(upstream.stats.requests, 8);
  });

  it('keys by API key after authentication, and by header', async () => {
    const upstream = await okUpstream();
    const { gatewayUrl, app } = await startProtectedApp({
      gateway: {
        routes: [
          route(upstream.url, { auth: 'apiKey', rateLimits: { limits: [{ name: 'per-key', by: 'apiKey', limit: 2, window: '1h' }] } }),
          { name: 'tenant', prefix: '/t/', upstream: upstream.url, auth: 'none', rateLimits: { limits: [{ name: 'per-tenant', by: 'header', header: 'X-Tenant', limit: 1, window: '1h' }] } },
        ],
      },
    });
    const a = await app.keys.create({ name: 'a', scopes: [], expiresAt: null, owner: null, now: 0 });
    const b = await app.keys.create({ name: 'b', scopes: [], expiresAt: null, owner: null, now: 0 });
    await app.keyCache.refresh();
    const url = `${gatewayUrl}/api/x`;
    assert.deepEqual(await statuses(url, 3, { authorization: `Bearer ${a.plaintext}` }), [200, 200, 429]);
    assert.deepEqual(await statuses(url, 2, { authorization: `Bearer ${b.plaintext}` }), [200, 200]);
    // Unauthenticated requests are refused by authentication, before the key limit counts anything.
    assert.equal((await get(url)).code, 'VGL_AUTH_MISSING');
    const [event] = await eventsOf(app, 'ratelimit.exceeded');
    assert.equal(event?.identity, `key:${a.key.id}`);
    const tenant = `${gatewayUrl}/t/x`;
    assert.deepEqual(await statuses(tenant, 2, { 'x-tenant': 'one' }), [200, 429]);
    assert.deepEqual(await statuses(tenant, 1, { 'x-tenant': 'two' }), [200]);
    assert.deepEqual(await statuses(tenant, 2), [200, 429]);
  });

  it('concurrency: max in flight per key, released when the response ends or the client aborts', async () => {
    const held: (() => void)[] = [];
    const { url } = await startServer((req, res) => {
      if (req.url?.includes('/slow')) held.push(() => res.end('done'));
      else res.end('ok');
    });
    const { gatewayUrl, app } = await startProtectedApp({
      gateway: { routes: [route(url, { rateLimits: { concurrency: [{ name: 'inflight', by: 'ip', max: 2 }] } })] },
    });
    const slow1 = request(`${gatewayUrl}/api/slow`);
    const slow2 = request(`${gatewayUrl}/api/slow`);
    while (held.length < 2) await new Promise((r) => setTimeout(r, 10));
    const third = await get(`${gatewayUrl}/api/fast`);
    assert.equal(third.status, 429);
    assert.equal(third.code, 'VGL_CONCURRENCY_LIMITED');
    held.shift()?.();
    await (await slow1).body.text();
    await waitFor(async () => (await get(`${gatewayUrl}/api/fast`)).status === 200, 'the slot of the finished call');
    // A client that goes away frees its slot too.
    const controller = new AbortController();
    const aborted = request(`${gatewayUrl}/api/slow`, { signal: controller.signal }).catch(() => undefined);
    while (held.length < 2) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await get(`${gatewayUrl}/api/fast`)).status, 429);
    controller.abort();
    await aborted;
    await waitFor(async () => (await get(`${gatewayUrl}/api/fast`)).status === 200, 'the slot of the aborted call');
    for (const release of held) release();
    await (await slow2).body.text();
    assert.ok((await coalescedEvents(app, 'ratelimit.concurrency_exceeded')).total >= 2);
  });

  it('headers can be turned off; Retry-After stays', async () => {
    const upstream = await okUpstream();
    const { gatewayUrl } = await startProtectedApp({
      protection: { rateLimitHeaders: false },
      gateway: { routes: [route(upstream.url, { rateLimits: { limits: [{ name: 'one', by: 'ip', limit: 1, window: '1h' }] } })] },
    });
    const ok = await get(`${gatewayUrl}/api/x`);
    assert.equal(ok.headers['ratelimit'], undefined);
    const refused = await get(`${gatewayUrl}/api/x`);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '3600');
  });
});

describe('rate limit config', () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['zero limit', { limits: [{ name: 'a', by: 'ip', limit: 0, window: '1s' }] }, /limit/],
    ['negative window', { limits: [{ name: 'a', by: 'ip', limit: 1, window: -5 }] }, /window/],
    ['tiny window', { limits: [{ name: 'a', by: 'ip', limit: 1, window: '10ms' }] }, /between 100ms and 24h/],
    ['huge sliding window', { limits: [{ name: 'a', by: 'ip', algorithm: 'sliding-window', limit: 50_000, window: '1h' }] }, /at most 10000/],
    ['header without name', { limits: [{ name: 'a', by: 'header', limit: 1, window: '1s' }] }, /set `header`/],
    ['bad header name', { limits: [{ name: 'a', by: 'header', header: 'x y', limit: 1, window: '1s' }] }, /header name/],
    ['name with quote', { limits: [{ name: 'a"b', by: 'ip', limit: 1, window: '1s' }] }, /1-32 characters/],
    ['duplicate names', { limits: [{ name: 'a', by: 'ip', limit: 1, window: '1s' }, { name: 'a', by: 'route', limit: 1, window: '1s' }] }, /duplicate limit name/],
    ['redis without redis', { store: 'redis', limits: [{ name: 'a', by: 'ip', limit: 1, window: '1s' }] }, /needs `protection.redis`/],
    ['unknown key', { limits: [{ name: 'a', by: 'ip', limit: 1, window: '1s', burts: 3 }] }, /burts/],
    ['unknown by', { limits: [{ name: 'a', by: 'cookie', limit: 1, window: '1s' }] }, /by/],
    ['too fast', { limits: [{ name: 'a', by: 'ip', limit: 1_000_000, window: '100ms' }] }, /microsecond/],
    ['burst with sliding', { limits: [{ name: 'a', by: 'ip', algorithm: 'sliding-window', limit: 5, window: '1s', burst: 2 }] }, /only used with/],
    ['concurrency zero', { concurrency: [{ name: 'a', by: 'ip', max: 0 }] }, /max/],
  ];
  for (const [what, rateLimits, message] of bad) {
    it(`rejects ${what} with its path`, () => {
      const yaml = JSON.stringify({ gateway: { routes: [{ name: 'r', prefix: '/', upstream: 'http://127.0.0.1:1', rateLimits }] } });
      assert.throws(
        () => parseConfig(yaml, 'test.yaml', {}),
        (err: unknown) => isVigilError(err) && err.code === 'VGL_CONFIG_INVALID' && message.test(err.message) && /gateway\.routes\[0\]\.rateLimits|gateway\.routes\.0\.rateLimits/.test(err.message),
      );
    });
  }
  it('rejects a non-redis URL and a hostile key prefix', () => {
    for (const redis of [{ url: 'http://127.0.0.1:6379' }, { url: 'redis://127.0.0.1:6379', keyPrefix: 'a b\r\n' }]) {
      assert.throws(() => parseConfig(JSON.stringify({ protection: { redis } }), 'test.yaml', {}), (err: unknown) => isVigilError(err) && /protection\.redis/.test(err.message));
    }
  });
});
