import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { request } from 'undici';
import type { SecurityEvent } from '../../src/store/records.js';
import { freePort, tempDir } from '../support/helpers.js';
import { count, eventsOf, get, okUpstream, startChild, startProtectedApp } from './limits-support.js';

/** Our own key prefix on the shared Redis, removed at the end. */
const PREFIX = `vgltest:${randomBytes(4).toString('hex')}:`;
const shared = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
after(async () => {
  const keys = await shared.keys(`${PREFIX}*`);
  if (keys.length > 0) await shared.del(...keys);
  shared.disconnect();
});

function redisRoute(upstream: string, rateLimits: Record<string, unknown>) {
  return { name: 'api', prefix: '/api/', upstream, auth: 'none', rateLimits: { store: 'redis', ...rateLimits } };
}

/** Fires `total` requests, `parallel` at a time, round-robin over the URLs; returns the statuses. */
async function blast(urls: readonly string[], total: number, parallel: number): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) {
        const i = next++;
        const res = await request(`${urls[i % urls.length] as string}/api/x`);
        await res.body.dump();
        out.push(res.statusCode);
      }
    }),
  );
  return out;
}

describe('rate limits in Redis', () => {
  it('three gateway processes sharing Redis admit the configured total, not three times it', async () => {
    const upstream = await okUpstream();
    const config = (dir: string) => ({
      gateway: { listen: { port: 0 }, routes: [redisRoute(upstream.url, { limits: [
        { name: 'window', by: 'route', algorithm: 'sliding-window', limit: 300, window: '1h' },
        { name: 'bucket', by: 'route', limit: 500, window: '1h', burst: 400 },
      ] })] },
      console: { listen: { port: 0 } },
      store: { dataDir: dir },
      protection: { redis: { url: 'redis://127.0.0.1:6379/0', keyPrefix: PREFIX, commandTimeout: '5s' } },
      log: { accessLog: false },
    });
    const children = await Promise.all([0, 1, 2].map(() => startChild(config(tempDir()))));
    const statuses = await blast(children.map((c) => c.url), 600, 30);
    assert.equal(count(statuses, 200), 300, `admitted ${count(statuses, 200)}`);
    assert.equal(count(statuses, 429), 300);
    assert.equal(upstream.stats.requests, 300);
    // GCRA through Redis: a fresh route-wide bucket of 400 admits 400 across the three.
    const gcra = config(tempDir());
    gcra.gateway.routes = [redisRoute(upstream.url, { limits: [{ name: 'gcra', by: 'route', limit: 1, window: '1h', burst: 400 }] })];
    const more = await Promise.all([0, 1, 2].map(() => startChild({ ...gcra, store: { dataDir: tempDir() } })));
    const second = await blast(more.map((c) => c.url), 700, 30);
    assert.equal(count(second, 200), 400);
  });

  it('Redis going away mid-load: local fallback, one security event, recovery, no crash; closed routes answer 503', async () => {
    const port = await freePort();
    const dir = tempDir();
    const startRedis = () => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    let server = startRedis();
    after(() => server.kill('SIGKILL'));
    for (let i = 0; i < 100; i++) {
      const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null });
      probe.on('error', () => undefined);
      const up = await probe.ping().then(() => true, () => false);
      probe.disconnect();
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const upstream = await okUpstream();
    const { gatewayUrl, app, log } = await startProtectedApp({
      protection: { redis: { url: `redis://127.0.0.1:${port}`, keyPrefix: PREFIX } },
      gateway: {
        routes: [
          redisRoute(upstream.url, { limits: [{ name: 'win', by: 'ip', algorithm: 'sliding-window', limit: 5, window: '1h' }] }),
          { name: 'strict', prefix: '/strict/', upstream: upstream.url, auth: 'none', rateLimits: { store: 'redis', onStoreFailure: 'closed', limits: [{ name: 'win', by: 'ip', limit: 100, window: '1h' }] } },
        ],
      },
    });
    const url = `${gatewayUrl}/api/x`;
    assert.deepEqual([(await get(url)).status, (await get(url)).status, (await get(url)).status], [200, 200, 200]);
    server.kill('SIGKILL');
    await new Promise((resolve) => server.once('exit', resolve));
    // Local counters take over: this instance's own 5, then 429, and the gateway keeps answering.
    const during: number[] = [];
    for (let i = 0; i < 8; i++) during.push((await get(url)).status);
    assert.deepEqual(during, [200, 200, 200, 200, 200, 429, 429, 429]);
    const strict = await get(`${gatewayUrl}/strict/x`);
    assert.equal(strict.status, 503);
    assert.equal(strict.code, 'VGL_RATE_LIMIT_STORE_UNAVAILABLE');
    const outage = await eventsOf(app, 'ratelimit.store_unavailable');
    assert.deepEqual(outage.map((e) => e.details.route).sort(), ['api', 'strict']);
    assert.equal(outage[0]?.severity, 'high');
    assert.ok(log.text.includes('VGL_RATE_LIMIT_STORE_UNAVAILABLE'));
    // Redis comes back (empty): the gateway reconnects by itself and counts in Redis again.
    server = startRedis();
    for (let i = 0; i < 200 && (await eventsOf(app, 'ratelimit.store_recovered')).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await eventsOf(app, 'ratelimit.store_recovered')).length, 1);
    const back: number[] = [];
    for (let i = 0; i < 6; i++) back.push((await get(url)).status);
    assert.deepEqual(back, [200, 200, 200, 200, 200, 429]);
    assert.equal((await get(`${gatewayUrl}/strict/x`)).status, 200);
    const direct = new Redis(port, '127.0.0.1');
    assert.equal((await direct.keys(`${PREFIX}rl:api:*`)).length, 1);
    direct.disconnect();
  });

  it('a closed route while Redis is unreachable: ratelimit.failed_closed names the client address, is coalesced per address, and feeds an IP ban scenario', async () => {
    const upstream = await okUpstream();
    const { gatewayUrl, app } = await startProtectedApp({
      protection: { redis: { url: `redis://127.0.0.1:${await freePort()}`, keyPrefix: PREFIX } },
      bans: { scenarios: [{ name: 'closed-flood', events: ['ratelimit.failed_closed'], by: 'ip', capacity: 2, leak: '1h', banFor: '1h' }] },
      gateway: {
        trustedProxies: ['127.0.0.1'],
        routes: [{ name: 'strict', prefix: '/strict/', upstream: upstream.url, auth: 'none', rateLimits: { store: 'redis', onStoreFailure: 'closed', limits: [{ name: 'win', by: 'ip', limit: 100, window: '1h' }] } }],
      },
    });
    const published: SecurityEvent[] = [];
    app.bus.on('security.event', (event) => published.push(event));
    const from = (ip: string) => get(`${gatewayUrl}/strict/x`, { 'x-forwarded-for': ip });
    for (let i = 0; i < 3; i++) assert.equal((await from('203.0.113.5')).code, 'VGL_RATE_LIMIT_STORE_UNAVAILABLE');
    assert.equal((await from('198.51.100.6')).status, 503);
    const refused = published.filter((e) => e.type === 'ratelimit.failed_closed');
    assert.deepEqual(refused.map((e) => e.sourceIp), ['203.0.113.5', '203.0.113.5', '203.0.113.5', '198.51.100.6'], 'every refusal reaches the bus with its client');
    // Stored: the first refusal of each address at once, the other two of 203.0.113.5 held back in its window.
    assert.deepEqual((await eventsOf(app, 'ratelimit.failed_closed')).map((e) => e.sourceIp).sort(), ['198.51.100.6', '203.0.113.5']);
    // Three refusals overflow the bucket of 2: that client is banned, the other one is not.
    let banned = await from('203.0.113.5');
    for (let i = 0; i < 50 && banned.code !== 'VGL_BANNED'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      banned = await from('203.0.113.5');
    }
    assert.equal(banned.code, 'VGL_BANNED');
    assert.equal((await from('198.51.100.6')).code, 'VGL_RATE_LIMIT_STORE_UNAVAILABLE');
    assert.equal(upstream.stats.requests, 0);
  });
});
