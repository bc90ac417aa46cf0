import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsoleServer } from '../../src/console/server.js';
import type { HealthCheckState } from '../../src/console/health.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { quietLogger, testConfig } from '../alerting/support.js';

const at = Date.parse('2025-01-01T00:00:00Z');

describe('health endpoint aliases', () => {
  it('answer like /readyz and /healthz, without an admin login, and follow the checks', async () => {
    const states: HealthCheckState[] = [
      { name: 'db', readiness: true, result: { check: 'db', at, status: 'up', latencyMs: 3, detail: 'query ok' } },
      { name: 'side', readiness: false, result: { check: 'side', at, status: 'up', latencyMs: 3, detail: 'status 200' } },
    ];
    const server = new ConsoleServer({ config: testConfig({}), logger: quietLogger(), registry: createMetricsRegistry(), health: { pingStore: async () => undefined, health: () => states } });
    const get = async (url: string) => {
      const res = await server.app.inject({ url });
      return { status: res.statusCode, body: res.json() as Record<string, unknown> };
    };
    for (const path of ['/ready', '/api/health/ready', '/api/v1/health/ready']) assert.deepEqual(await get(path), { status: 200, body: { status: 'ready' } }, path);
    for (const path of ['/health', '/api/health/detailed', '/api/v1/health/detailed']) {
      const res = await get(path);
      assert.equal(res.status, 200, path);
      assert.deepEqual(Object.keys(res.body.checks as object), ['db', 'side']);
    }
    assert.deepEqual(await get('/api/health/dependencies'), { status: 200, body: { status: 'ok', dependencies: { store: 'up', 'check:db': 'up', 'check:side': 'up' } } });

    states[1] = { name: 'side', readiness: false, result: { check: 'side', at, status: 'down', latencyMs: 3, detail: 'status 500 not in [200]' } };
    assert.equal((await get('/ready')).status, 200, 'a non-readiness check does not gate readiness');
    assert.equal((await get('/health')).status, 503);
    assert.deepEqual(await get('/api/v1/health/dependencies'), { status: 503, body: { status: 'degraded', dependencies: { store: 'up', 'check:db': 'up', 'check:side': 'down' } } });
    states[0] = { name: 'db', readiness: true, result: undefined };
    const notReady = await get('/api/health/ready');
    assert.deepEqual(notReady, { status: 503, body: { status: 'not ready', reasons: ['check db: no result yet'] } });
    await server.app.close();
  });
});
