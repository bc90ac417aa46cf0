import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { ConsoleServer } from '../../src/console/server.js';
import type { HealthCheckState, HealthSource } from '../../src/console/health.js';
import { VigilError } from '../../src/core/errors.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { quietLogger, testConfig } from '../alerting/support.js';
import { startApp, startServer, waitFor } from '../support/helpers.js';

function consoleWith(source: HealthSource): ConsoleServer {
  return new ConsoleServer({ config: testConfig({}), logger: quietLogger(), registry: createMetricsRegistry(), health: source });
}

const at = Date.parse('2025-01-01T00:00:00Z');
const upResult = (check: string) => ({ check, at, status: 'up' as const, latencyMs: 12.34, detail: 'status 200' });

describe('health endpoints (in process)', () => {
  it('/readyz is 503 while a readiness check has no result yet, and 200 once it is up', async () => {
    const states: HealthCheckState[] = [{ name: 'api', readiness: true, result: undefined }];
    const server = consoleWith({ pingStore: async () => undefined, health: () => states });
    let res = await server.app.inject({ url: '/readyz' });
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json(), { status: 'not ready', reasons: ['check api: no result yet'] });
    states[0] = { name: 'api', readiness: true, result: upResult('api') };
    res = await server.app.inject({ url: '/readyz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ready' });
    await server.app.close();
  });

  it('/readyz and /healthz are 503 when the store does not answer', async () => {
    const server = consoleWith({
      pingStore: () => Promise.reject(new VigilError('VGL_STORE_FAILED', 'ping failed: SQLITE_IOERR at /secret/path')),
      health: () => [{ name: 'api', readiness: true, result: upResult('api') }],
    });
    const ready = await server.app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.deepEqual(ready.json(), { status: 'not ready', reasons: ['store: unavailable (VGL_STORE_FAILED)'] });
    const health = await server.app.inject({ url: '/healthz' });
    assert.equal(health.statusCode, 503);
    assert.equal(health.json().status, 'degraded');
    assert.doesNotMatch(health.body, /secret/);
    await server.app.close();
  });

  it('/healthz reports a check with no result as unknown', async () => {
    const server = consoleWith({ pingStore: async () => undefined, health: () => [{ name: 'api', readiness: false, result: undefined }] });
    const res = await server.app.inject({ url: '/healthz' });
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json(), {
      status: 'degraded',
      store: { status: 'up' },
      checks: { api: { status: 'unknown', latencyMs: null, detail: 'no result yet', at: null } },
    });
    await server.app.close();
  });
});

describe('health endpoints (real app, real checks)', () => {
  it('follow the checks: 200 while up, 503 when a readiness check goes down; a non-readiness check degrades only /healthz', async () => {
    let apiStatus = 200;
    const api = await startServer((_req, res) => {
      res.statusCode = apiStatus;
      res.end();
    });
    const side = await startServer((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const { app, consoleUrl } = await startApp({
      monitor: {
        checks: [
          { name: 'api', type: 'http', url: `${api.url}/health`, interval: 100, timeout: 90, readiness: true },
          { name: 'side', type: 'http', url: side.url, interval: 100, timeout: 90 },
        ],
      },
    });
    const get = async (path: string) => {
      const res = await request(`${consoleUrl}${path}`);
      return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
    };

    // Wait for states rather than sample once: on a loaded machine a single run may time out.
    const ready = await waitFor(async () => {
      const res = await get('/readyz');
      return res.status === 200 && res;
    }, '/readyz 200');
    assert.deepEqual(ready.body, { status: 'ready' });
    const degraded = await waitFor(async () => {
      const res = await get('/healthz');
      const checks = res.body.checks as Record<string, { status: string; detail: string; latencyMs: number; at: string }>;
      return checks.api?.status === 'up' && checks.side?.status === 'down' && { ...res, checks };
    }, '/healthz with api up and side down');
    assert.equal(degraded.status, 503, 'the side check is down');
    assert.equal(degraded.body.status, 'degraded');
    assert.equal(degraded.checks.side?.detail, 'status 500 not in [200]');
    assert.ok(typeof degraded.checks.api?.latencyMs === 'number' && !Number.isNaN(Date.parse(degraded.checks.api.at)));

    apiStatus = 503;
    await waitFor(async () => {
      const res = await get('/readyz');
      const reasons = res.body.reasons as string[] | undefined;
      return res.status === 503 && res.body.status === 'not ready' && reasons?.[0] === 'check api: status 503 not in [200]';
    }, '/readyz 503 naming the api check');

    const metrics = await (await request(`${consoleUrl}/metrics`)).body.text();
    assert.match(metrics, /vigil_check_up\{check="api"\} 0/);
    assert.match(metrics, /vigil_check_latency_seconds\{check="api"\} \d/);
    const stored = await app.store.checks.recent('api', 100);
    assert.ok(stored.some((r) => r.status === 'up') && stored[0]?.status === 'down', 'every result is stored, newest first');
  });

  it('serves /healthz 200 when every check is up', async () => {
    const api = await startServer((_req, res) => res.end());
    const { consoleUrl } = await startApp({ monitor: { checks: [{ name: 'api', type: 'http', url: api.url, interval: 50, timeout: 40 }] } });
    const body = await waitFor(async () => {
      const res = await request(`${consoleUrl}/healthz`);
      const json = (await res.body.json()) as { status: string };
      return res.statusCode === 200 && json;
    }, '/healthz 200');
    assert.equal(body.status, 'ok');
  });
});
