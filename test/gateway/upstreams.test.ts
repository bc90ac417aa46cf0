import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { UpstreamMetrics } from '../../src/gateway/upstream-metrics.js';
import { UpstreamTarget } from '../../src/gateway/upstream/target.js';
import { ManualClock, startApp, startServer } from '../support/helpers.js';

/** An upstream that answers with its name after `delayMs`, or with `status` when set. */
async function namedUpstream(name: string, options: { delayMs?: number } = {}) {
  const state = { hits: 0, bodies: [] as string[], status: 200, reset: false };
  const { url } = await startServer((req, res) => {
    state.hits++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.bodies.push(Buffer.concat(chunks).toString());
      if (state.reset) return void req.socket.destroy();
      setTimeout(() => {
        res.writeHead(state.status, { 'content-type': 'text/plain' });
        res.end(name);
      }, options.delayMs ?? 0);
    });
  });
  return { url, state };
}

/** A loopback port with nothing listening (connections are refused). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function appWith(upstreams: Record<string, unknown>, clock?: ManualClock) {
  return startApp({ gateway: { routes: [{ name: 'r', prefix: '/r/', auth: 'none', upstreams }] } }, {}, clock);
}

async function get(url: string, init: Parameters<typeof request>[1] = {}): Promise<{ status: number; body: string }> {
  const res = await request(url, init);
  return { status: res.statusCode, body: await res.body.text() };
}

async function metric(consoleUrl: string, pattern: RegExp): Promise<number | undefined> {
  const text = await (await request(`${consoleUrl}/metrics`)).body.text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : undefined;
}

describe('gateway upstream targets', () => {
  it('round-robin follows the weights exactly (smooth weighted round-robin)', async () => {
    const a = await namedUpstream('a');
    const b = await namedUpstream('b');
    const c = await namedUpstream('c');
    const { gatewayUrl } = await appWith({ targets: [{ url: a.url }, { url: b.url }, { url: c.url, weight: 2 }] });
    const seen: string[] = [];
    for (let i = 0; i < 40; i++) seen.push((await get(`${gatewayUrl}/r/x`)).body);
    assert.deepEqual([a.state.hits, b.state.hits, c.state.hits], [10, 10, 20]);
    // Smooth: the heavy target never gets more than two in a row.
    assert.ok(!seen.join('').includes('ccc'), seen.join(''));
  });

  it('peak-EWMA sends most requests to the faster target; least-in-flight avoids the busy one', async () => {
    // 150 ms against ~1 ms: a loaded machine's hiccups on the fast one stay well below the slow one's latency.
    // The decay runs on the app's clock, moved 1 s per request: how fast the machine sends them does not matter.
    const slow = await namedUpstream('slow', { delayMs: 150 });
    const fast = await namedUpstream('fast');
    const clock = new ManualClock();
    const ewma = await appWith({ balance: 'peak-ewma', targets: [{ url: slow.url }, { url: fast.url }] }, clock);
    for (let i = 0; i < 30; i++) {
      await get(`${ewma.gatewayUrl}/r/x`);
      clock.advance(1000);
    }
    assert.ok(fast.state.hits >= 25, `fast got ${fast.state.hits} of 30, slow ${slow.state.hits}`);

    const busy = await namedUpstream('busy', { delayMs: 300 });
    const idle = await namedUpstream('idle');
    const least = await appWith({ balance: 'least-in-flight', targets: [{ url: busy.url }, { url: idle.url }] });
    // 20 concurrent requests: busy holds each for 300 ms, idle answers at once.
    await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      await sleep(i * 10);
      await get(`${least.gatewayUrl}/r/x`);
    }));
    // Round-robin would give it 10; ties (both idle) are broken at random.
    assert.ok(busy.state.hits <= 5, `busy got ${busy.state.hits} of 20`);
  });

  it('peak-EWMA latency: a slower sample takes over at once, a faster one weighs by the time since the last on the route clock', async () => {
    const clock = new ManualClock();
    const metrics = new UpstreamMetrics(new Registry());
    const target = new UpstreamTarget({ url: 'http://127.0.0.1:1', weight: 1, fallback: false }, 1000, {}, { failures: 5, openFor: 1000, maxOpenFor: 1000 }, clock, () => {}, (label) => metrics.target('r', label));
    target.observeLatency(100);
    assert.equal(target.latency, 100, 'the first sample');
    target.observeLatency(10);
    assert.equal(target.latency, 100, 'no time passed: a faster sample weighs nothing');
    clock.advance(10_000); // one decay time
    target.observeLatency(10);
    assert.ok(Math.abs(target.latency - (100 * Math.exp(-1) + 10 * (1 - Math.exp(-1)))) < 1e-9, String(target.latency));
    target.observeLatency(500);
    assert.equal(target.latency, 500, 'a slower sample takes over at once');
    await target.pool.close();
  });

  it('ejects a failing target (breaker open), probes it once when due, and takes it back when it recovers', async () => {
    const good = await namedUpstream('good');
    const bad = await namedUpstream('bad');
    bad.state.status = 503;
    // The breaker's time is the app's clock, moved by hand: how long the requests take does not matter.
    const clock = new ManualClock();
    const { gatewayUrl, consoleUrl } = await appWith(
      { targets: [{ url: good.url }, { url: bad.url }], breaker: { failures: 2, openFor: '300ms', maxOpenFor: '10s' }, retry: { attempts: 0 } },
      clock,
    );
    const badLabel = new URL(bad.url).origin.replace(/[/.]/g, (c) => `\\${c}`);
    const state = () => metric(consoleUrl, new RegExp(`vigil_gateway_breaker_state\\{route="r",target="${badLabel}"\\} (\\d)`));
    for (let i = 0; i < 4; i++) await get(`${gatewayUrl}/r/x`);
    assert.equal(bad.state.hits, 2, 'two failures eject it');
    assert.equal(await state(), 1, 'breaker open');
    for (let i = 0; i < 10; i++) assert.equal((await get(`${gatewayUrl}/r/x`)).body, 'good');
    clock.advance(299);
    for (let i = 0; i < 4; i++) assert.equal((await get(`${gatewayUrl}/r/x`)).body, 'good');
    assert.equal(bad.state.hits, 2, 'no traffic while ejected (300 ms)');
    clock.advance(1);
    // Half-open: exactly one probe; it fails, so the target is out again, now for 600 ms.
    for (let i = 0; i < 6; i++) await get(`${gatewayUrl}/r/x`);
    assert.equal(bad.state.hits, 3, 'one probe only');
    assert.equal(await state(), 1);
    bad.state.status = 200;
    clock.advance(599);
    for (let i = 0; i < 4; i++) await get(`${gatewayUrl}/r/x`);
    assert.equal(bad.state.hits, 3, 'the second ejection lasts longer (600 ms)');
    clock.advance(1);
    for (let i = 0; i < 6; i++) await get(`${gatewayUrl}/r/x`);
    assert.ok(bad.state.hits >= 5, `recovered target takes traffic again (${bad.state.hits})`);
    assert.equal(await state(), 0, 'breaker closed');
    assert.equal(await metric(consoleUrl, new RegExp(`vigil_gateway_upstream_ejections_total\\{route="r",target="${badLabel}"\\} (\\d+)`)), 2);
  });

  it('503 coded when every target is ejected; a fallback target takes over when the primaries are out', async () => {
    const bad = await namedUpstream('bad');
    bad.state.status = 502;
    const only = await appWith({ targets: [{ url: bad.url }], breaker: { failures: 1, openFor: '10s' }, retry: { attempts: 0 } });
    assert.equal((await get(`${only.gatewayUrl}/r/x`)).status, 502);
    const refused = await get(`${only.gatewayUrl}/r/x`);
    assert.equal(refused.status, 503);
    assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'VGL_GATEWAY_NO_HEALTHY_TARGET');

    const backup = await namedUpstream('backup');
    const primary = await namedUpstream('primary');
    const withFallback = await appWith({
      targets: [{ url: primary.url }, { url: backup.url, fallback: true }],
      breaker: { failures: 1, openFor: '10s' },
      retry: { attempts: 0 },
    });
    assert.equal((await get(`${withFallback.gatewayUrl}/r/x`)).body, 'primary');
    assert.equal(backup.state.hits, 0, 'the fallback is idle while a primary is available');
    primary.state.status = 503;
    await get(`${withFallback.gatewayUrl}/r/x`);
    assert.equal((await get(`${withFallback.gatewayUrl}/r/x`)).body, 'backup');
  });

  it('retries connect failures (any method, body intact) on another target', async () => {
    const good = await namedUpstream('good');
    const dead = await deadUrl();
    const { gatewayUrl, consoleUrl } = await appWith({ targets: [{ url: dead }, { url: good.url }], retry: { attempts: 1, backoff: '1ms' } });
    for (let i = 0; i < 4; i++) {
      const res = await get(`${gatewayUrl}/r/x`, { method: 'POST', body: `payload-${i}` });
      assert.equal(res.status, 200);
      assert.equal(res.body, 'good');
    }
    assert.deepEqual(good.state.bodies, ['payload-0', 'payload-1', 'payload-2', 'payload-3']);
    assert.ok(((await metric(consoleUrl, /vigil_gateway_retries_total\{route="r"\} (\d+)/)) ?? 0) >= 1);
  });

  it('retries an idempotent request up to the limit, never a POST the upstream may have processed, within the budget', async () => {
    const flaky = await namedUpstream('flaky');
    flaky.state.reset = true;
    const { gatewayUrl } = await appWith({ targets: [{ url: flaky.url }], retry: { attempts: 2, backoff: '1ms' }, breaker: { failures: 1000 } });
    const got = await get(`${gatewayUrl}/r/x`);
    assert.equal(got.status, 502);
    assert.equal(flaky.state.hits, 3, 'first try + 2 retries');
    const post = await get(`${gatewayUrl}/r/x`, { method: 'POST', body: 'charge-once' });
    assert.equal(post.status, 502);
    assert.equal(flaky.state.hits, 4, 'a POST that reached the upstream is not repeated');

    const storm = await namedUpstream('storm');
    storm.state.reset = true;
    const budgeted = await appWith({ targets: [{ url: storm.url }], retry: { attempts: 10, backoff: '1ms', budget: 0 }, breaker: { failures: 1000 } });
    await get(`${budgeted.gatewayUrl}/r/x`);
    assert.equal(storm.state.hits, 11, 'the budget floor allows 10 retries per window');
    await get(`${budgeted.gatewayUrl}/r/x`);
    assert.equal(storm.state.hits, 12, 'then the budget is spent: no more retries');
  });

  it('refuses a route with both or neither of upstream and upstreams.targets', async () => {
    const { parseConfig } = await import('../../src/config/load.js');
    assert.throws(
      () => parseConfig(JSON.stringify({ gateway: { routes: [{ name: 'r', prefix: '/r/' }] } }), 'x.yaml', {}),
      (err: Error) => /gateway\.routes\[0\]\.upstream \(line \d+\): set `upstream` or `upstreams.targets`/.test(err.message),
    );
    assert.throws(
      () =>
        parseConfig(
          JSON.stringify({ gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: 'http://a', upstreams: { targets: [{ url: 'http://b', weight: 0 }] } }] } }),
          'x.yaml',
          {},
        ),
      (err: Error) => err.message.includes('gateway.routes[0].upstreams.targets[0].weight'),
    );
    assert.throws(
      () => parseConfig(JSON.stringify({ gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: 'http://a', upstreams: { targets: [{ url: 'http://b' }] } }] } }), 'x.yaml', {}),
      (err: Error) => /gateway\.routes\[0\]\.upstreams\.targets .*not both/.test(err.message),
    );
  });
});
