import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MonitorHistory } from '../../src/monitor/history.js';
import type { CheckResult } from '../../src/store/records.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { addUser, errorCode, sessionCookie, startIdentityApp } from '../identity/support.js';
import { tempDir, waitFor } from '../support/helpers.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);

function result(check: string, at: number, status: CheckResult['status'], latencyMs: number, value?: number): CheckResult {
  return { check, at, status, latencyMs, detail: status, ...(value === undefined ? {} : { value }) };
}

describe('check history (SQLite)', () => {
  it('rolls complete hours into counts, latency percentiles and value range, once, and keeps them after raw rows are pruned', async () => {
    const store = openSqliteStore(tempDir());
    // Hour 0: 100 runs, latencies 1..100 ms, 10 down, 5 pending; hour 1: 10 up runs; hour 2 (incomplete): 1 run.
    for (let i = 1; i <= 100; i++) await store.checks.append(result('api', T0 + i * 1000, i <= 10 ? 'down' : i <= 15 ? 'pending' : 'up', i, i));
    for (let i = 0; i < 10; i++) await store.checks.append(result('api', T0 + HOUR + i * 1000, 'up', 5));
    await store.checks.append(result('api', T0 + 2 * HOUR + 10, 'down', 7));
    await store.checks.append(result('other', T0 + 5, 'up', 3));

    assert.equal(await store.checkHistory.rollUp(T0 + 2 * HOUR + 500), 3);
    assert.equal(await store.checkHistory.rollUp(T0 + 2 * HOUR + 900), 0, 'an hour is rolled up once');
    const [first, second] = await store.checkHistory.rollups('api', T0, T0 + 3 * HOUR);
    assert.deepEqual(first, { check: 'api', hour: T0, runs: 100, up: 85, down: 10, pending: 5, latencyP50: 50, latencyP95: 95, latencyP99: 99, latencyMax: 100, valueLast: 100, valueMin: 1, valueMax: 100 });
    assert.equal(second?.runs, 10);

    const history = new MonitorHistory(store.checkHistory);
    // 24h window: hours 0-1 from rollups (95 up of 105 judged), hour 2 from raw (1 down).
    assert.equal(await history.uptime('api', T0 + 2 * HOUR + 600, 86_400_000), Math.round((95 / 106) * 100_000) / 1000);
    assert.equal(await history.uptime('nothing', T0 + 2 * HOUR, 86_400_000), null);

    // Retention: raw older than 1h goes (only what is rolled up), rollups stay.
    const done = await history.maintain(T0 + 2 * HOUR + 600, HOUR, 400 * 86_400_000);
    assert.equal(done.prunedRaw, 102, 'raw rows older than 1h (hour 0, and the first of hour 1) are pruned');
    assert.equal((await store.checkHistory.results('api', T0, T0 + 3 * HOUR, 1000)).length, 10);
    assert.equal((await store.checkHistory.rollups('api', T0, T0 + 3 * HOUR)).length, 2);
    assert.equal(await history.uptime('api', T0 + 2 * HOUR + 600, 86_400_000), Math.round((95 / 106) * 100_000) / 1000, 'uptime unchanged by pruning');
    await store.close();
  });

  it('keeps the measured value with raw results', async () => {
    const store = openSqliteStore(tempDir());
    await store.checks.append(result('credits', T0, 'up', 12, 42.5));
    await store.checks.append(result('web', T0, 'up', 12));
    assert.equal((await store.checkHistory.results('credits', T0, T0 + 1, 10))[0]?.value, 42.5);
    assert.equal('value' in ((await store.checkHistory.results('web', T0, T0 + 1, 10))[0] ?? {}), false);
    await store.close();
  });
});

describe('monitor admin API', () => {
  it('lists checks with uptime and latency, serves history, and answers bad queries with coded errors', async () => {
    const { app, clock } = await startIdentityApp({ monitor: { checks: [{ name: 'db', type: 'tcp', host: '127.0.0.1', port: 1, interval: '1h', timeout: '1s' }] } });
    const start = clock.now();
    // The check's own first run (port 1: refused, down) lands at the start; 20 more results follow, then 3 hours pass.
    const first = await waitFor(() => app.monitor.latestResult('db'), 'the first run');
    for (let i = 0; i < 20; i++) await app.store.checks.append(result('db', start + i * 60_000, i < 15 ? 'up' : 'down', 10 + i));
    clock.advance(3 * HOUR);
    const now = clock.now();
    const viewer = await sessionCookie(app, await addUser(app, 'vera', 'viewer', now), now);
    const security = await sessionCookie(app, await addUser(app, 'sam', 'security-admin', now), now);
    const get = (url: string, cookie?: string) => app.console.app.inject({ url, headers: cookie === undefined ? {} : { cookie } });

    assert.equal((await get('/api/v1/monitors')).statusCode, 401);
    const forbidden = await get('/api/v1/monitors', security);
    assert.equal(forbidden.statusCode, 403, 'security-admin lacks monitors:read');

    const list = await get('/api/v1/monitors', viewer);
    assert.equal(list.statusCode, 200);
    const [db] = (list.json() as { monitors: Record<string, unknown>[] }).monitors;
    assert.equal(db?.name, 'db');
    assert.equal(db?.type, 'tcp');
    const pct = Math.round((15 / 21) * 100_000) / 1000;
    assert.deepEqual(db?.uptime, { '24h': pct, '7d': pct, '30d': pct });
    const latencies = [first.latencyMs, ...Array.from({ length: 20 }, (_, i) => 10 + i)].sort((a, b) => a - b);
    const at = (p: number) => Math.round((latencies[Math.ceil(p * 21) - 1] as number) * 10) / 10;
    assert.deepEqual(db?.latency24h, { p50: at(0.5), p95: at(0.95), p99: at(0.99), runs: 21 });

    const raw = await get(`/api/v1/monitors/db/history?from=${now - 4 * HOUR}&to=${new Date(now).toISOString()}&limit=5`, viewer);
    assert.equal(raw.statusCode, 200);
    const rawBody = raw.json() as { results: { at: string; status: string }[] };
    assert.equal(rawBody.results.length, 5);
    assert.equal(rawBody.results[0]?.at, new Date(start).toISOString());

    await app.monitor.maintain();
    const hourly = await get(`/api/v1/monitors/db/history?resolution=hour&from=${now - 4 * HOUR}&to=${now}`, viewer);
    const rollups = (hourly.json() as { rollups: { runs: number }[] }).rollups;
    assert.equal(rollups.reduce((sum, r) => sum + r.runs, 0), 21);
    const again = ((await get('/api/v1/monitors', viewer)).json() as { monitors: { uptime: unknown }[] }).monitors[0];
    assert.deepEqual(again?.uptime, { '24h': pct, '7d': pct, '30d': pct }, 'same uptime from rollups as from raw results');

    for (const [query, expected] of [
      ['from=yesterday', /'from' must be/],
      [`from=${now}&to=${now - 1}`, /'from' must be before 'to'/],
      ['resolution=minute', /'resolution' must be raw or hour/],
      ['limit=0', /'limit' must be an integer/],
      ['limit=99999999', /'limit' must be an integer/],
      [`from=0&to=${now}`, /range is too long/],
      [`to=${'9'.repeat(50)}`, /'to' must be/],
    ] as const) {
      const res = await get(`/api/v1/monitors/db/history?${query}`, viewer);
      assert.equal(res.statusCode, 400, query);
      assert.equal(errorCode(res.body), 'VGL_MONITOR_BAD_QUERY');
      assert.match((res.json() as { error: { message: string } }).error.message, expected, query);
    }
    const missing = await get('/api/v1/monitors/nope/history', viewer);
    assert.equal(missing.statusCode, 404);
    assert.equal(errorCode(missing.body), 'VGL_MONITOR_CHECK_NOT_FOUND');
    assert.equal((await get('/api/v1/monitors', viewer)).statusCode, 200, 'still serving after bad input');
  });
});
