import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { startServer, tempDir } from '../support/helpers.js';
import { startChild } from './limits-support.js';

/** Our own key prefix on the shared Redis, removed at the end. */
const PREFIX = `vgltest:${randomBytes(4).toString('hex')}:`;
const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
after(async () => {
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const LEASE_MS = 3000;
/** The leases of the route-wide key: one sorted-set member per request in flight. */
const LEASES = `${PREFIX}cc:api:inflight:c3:route`;

/** Polls until `check` holds or `ms` passed; returns whether it held. */
async function until(check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await sleep(25);
  }
}

/** A long request: resolves with the status once headers came; an admitted one keeps streaming until the upstream ends it or the client aborts. */
let opened = 0;
async function open(url: string) {
  const id = String(++opened);
  const controller = new AbortController();
  const res = await request(`${url}/api/stream`, { signal: controller.signal, headers: { 'x-test-stream': id } });
  const body = res.body.text().catch(() => '');
  return { id, status: res.statusCode, body, abort: () => controller.abort() };
}

describe('concurrency limits in Redis', () => {
  it('three gateway processes admit max long requests in total; a finished or aborted request frees its lease at once; a killed instance\'s leases expire after the lease time, running ones are renewed', async () => {
    // An upstream that streams: headers and a first chunk at once, the rest when the test says.
    // `held` maps each open stream's x-test-stream ID to its response, until it closes.
    const held = new Map<string, ServerResponse>();
    const { url: upstreamUrl } = await startServer((req, res) => {
      const id = String(req.headers['x-test-stream']);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first ');
      held.set(id, res);
      res.once('close', () => held.delete(id));
    });
    const endAll = () => {
      for (const res of held.values()) res.end();
    };
    after(endAll);
    const config = {
      gateway: { listen: { port: 0 }, routes: [{ name: 'api', prefix: '/api/', upstream: upstreamUrl, auth: 'none', timeouts: { idle: '10m' }, rateLimits: { store: 'redis', concurrency: [{ name: 'inflight', by: 'route', max: 3, lease: `${LEASE_MS}ms` }] } }] },
      console: { listen: { port: 0 } },
      protection: { redis: { url: 'redis://127.0.0.1:6379/0', keyPrefix: PREFIX, commandTimeout: '5s' } },
      log: { accessLog: false },
    };
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => startChild({ ...config, store: { dataDir: tempDir() } })));
    assert.ok(a && b && c);
    const leases = () => redis.zcard(LEASES);

    // Six long requests at once over the three instances: exactly three reach the upstream.
    const first = await Promise.all([a, b, c, a, b, c].map((g) => open(g.url)));
    assert.deepEqual(first.map((r) => r.status).sort(), [200, 200, 200, 429, 429, 429]);
    assert.equal(held.size, 3);
    assert.equal(await leases(), 3);
    const running = first.filter((r) => r.status === 200);

    // Past the lease time the running requests still hold their slots (their instances renew the leases).
    await sleep(LEASE_MS + 1000);
    assert.equal((await open(b.url)).status, 429, 'a request that outlives the lease time keeps its slot');
    assert.equal(await leases(), 3);

    // A finished request frees its lease at once, not after the lease time.
    held.get(running[0]?.id ?? '')?.end('done');
    assert.equal(await running[0]?.body, 'first done');
    assert.ok(await until(async () => (await leases()) === 2, 500), 'the lease of a finished request is released');
    const next = await open(c.url);
    assert.equal(next.status, 200);
    assert.ok(await until(() => held.size === 3, 2000));

    // So does a request whose client went away.
    running[1]?.abort();
    assert.ok(await until(async () => (await leases()) === 2, 500), 'the lease of an aborted request is released');
    assert.equal((await open(a.url)).status, 200);
    assert.equal((await open(b.url)).status, 429);

    // Start over with one request in flight on c, two on a; then c dies without releasing.
    endAll();
    assert.ok(await until(async () => (await leases()) === 0, 2000));
    const onA = [await open(a.url), await open(a.url)];
    assert.deepEqual([...onA.map((r) => r.status), (await open(c.url)).status], [200, 200, 200]);
    c.child.kill('SIGKILL');
    const killedAt = Date.now();
    await new Promise((resolve) => c.child.once('exit', resolve));
    assert.equal((await open(b.url)).status, 429, 'the dead instance\'s slot is still taken');
    let admitted: Awaited<ReturnType<typeof open>> | undefined;
    assert.ok(
      await until(async () => {
        const r = await open(b.url);
        if (r.status === 200) admitted = r;
        return r.status === 200;
      }, LEASE_MS + 3000),
      'the dead instance\'s lease expires',
    );
    const waited = Date.now() - killedAt;
    assert.ok(waited >= LEASE_MS - 1500, `freed after ${waited}ms: by expiry, not at once`);
    assert.ok(admitted);
    // Only that one slot came back: the two on a are still renewed and held.
    assert.equal((await open(b.url)).status, 429);
    assert.equal(await leases(), 3);
  });
});
