import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { promiseHooks } from 'node:v8';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SecurityEventRecorder } from '../../src/identity/security-events.js';
import type { Alert, SecurityEvent } from '../../src/store/records.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { EventBus } from '../../src/core/bus.js';
import { ManualClock, tempDir, waitFor } from '../support/helpers.js';
import { quietLogger, startEngine, testConfig } from './support.js';

const states = (changes: Alert[]) => changes.map((a) => `${a.state}:${a.severity}`);

function gaugeRule(extra: Record<string, unknown> = {}) {
  return testConfig({ alerting: { rules: [{ name: 'load', kind: 'threshold', metric: 'test_load', warning: 10, critical: 20, ...extra }] } });
}

describe('threshold rules', () => {
  it('goes pending, fires exactly at `for`, steps severity up at once and resolves when clear', async () => {
    const clock = new ManualClock();
    const registry = new Registry();
    const load = new Gauge({ name: 'test_load', help: 'x', registers: [registry] });
    const { engine, changes } = await startEngine(gaugeRule({ for: '1m', annotations: { summary: 'load is {{ $value }} ({{ $labels.rule }})' } }), { clock, registry });
    load.set(12);
    await engine.evaluateNow();
    const start = clock.now();
    assert.deepEqual(states(changes), ['pending:warning']);
    clock.advance(59_999);
    await engine.evaluateNow();
    assert.deepEqual(states(changes), ['pending:warning'], 'not a millisecond early');
    clock.advance(1);
    await engine.evaluateNow();
    assert.deepEqual(states(changes), ['pending:warning', 'firing:warning']);
    const fired = changes[1];
    assert.equal(fired?.firedAt, start + 60_000);
    assert.equal(fired?.previousState, 'pending');
    assert.equal(fired?.value, 12);
    assert.equal(fired?.summary, 'load is 12 (load)');
    assert.deepEqual(fired?.labels, { rule: 'load', severity: 'warning' });

    load.set(25);
    await engine.evaluateNow();
    const up = changes[2];
    assert.equal(up?.state, 'firing');
    assert.equal(up?.severity, 'critical');
    assert.equal(up?.previousSeverity, 'warning');
    assert.equal(up?.previousState, 'firing');
    assert.equal(up?.annotations?.summary, 'load is 25 (load)');

    load.set(3);
    clock.advance(1000);
    await engine.evaluateNow();
    assert.deepEqual(states(changes).slice(3), ['resolved:critical']);
    assert.equal(changes[3]?.previousState, 'firing');
    assert.deepEqual(engine.openAlerts(), []);
  });

  it('damps flapping with keepFiringFor: a clear spell shorter than it publishes nothing; the step down waits for it too', async () => {
    const clock = new ManualClock();
    const registry = new Registry();
    const load = new Gauge({ name: 'test_load', help: 'x', registers: [registry] });
    const { engine, changes, store } = await startEngine(gaugeRule({ keepFiringFor: '30s' }), { clock, registry });
    load.set(25);
    await engine.evaluateNow();
    assert.deepEqual(states(changes), ['firing:critical'], 'for 0: fires at once');
    for (let i = 0; i < 5; i++) {
      load.set(i % 2 === 0 ? 1 : 25);
      clock.advance(10_000);
      await engine.evaluateNow();
    }
    assert.deepEqual(states(changes), ['firing:critical'], 'flapping within keepFiringFor changes nothing');

    load.set(15);
    clock.advance(10_000);
    await engine.evaluateNow();
    clock.advance(29_999);
    await engine.evaluateNow();
    assert.deepEqual(states(changes), ['firing:critical'], 'still critical within keepFiringFor');
    clock.advance(1);
    await engine.evaluateNow();
    assert.deepEqual(states(changes), ['firing:critical', 'firing:warning']);

    load.set(0);
    clock.advance(1000);
    await engine.evaluateNow();
    const held = await store.alerts.get('load');
    assert.equal(held?.state, 'firing');
    assert.equal(held?.clearedAt, clock.now(), 'the hold is stored, so it survives a restart');
    clock.advance(30_000);
    await engine.evaluateNow();
    assert.deepEqual(states(changes), ['firing:critical', 'firing:warning', 'resolved:warning']);
  });

  it('ratio, rate and p95 over a window of real counters and a real histogram, one alert per `by` group', async () => {
    const clock = new ManualClock();
    const registry = new Registry();
    const requests = new Counter({ name: 'test_requests_total', help: 'x', labelNames: ['route', 'status'], registers: [registry] });
    const latency = new Histogram({ name: 'test_latency_seconds', help: 'x', labelNames: ['route'], buckets: [0.1, 0.5, 1, 2, 5], registers: [registry] });
    const config = testConfig({
      alerting: {
        rules: [
          { name: 'errors', kind: 'threshold', metric: 'test_requests_total', match: { status: '5..' }, divideBy: { match: {} }, by: ['route'], aggregate: 'ratio', window: '5m', warning: 0.05, critical: 0.5 },
          { name: 'rps', kind: 'threshold', metric: 'test_requests_total', aggregate: 'rate', window: '1m', warning: 1 },
          { name: 'slow', kind: 'threshold', metric: 'test_latency_seconds', by: ['route'], aggregate: 'p95', window: '5m', warning: 1 },
        ],
      },
    });
    const { engine, changes } = await startEngine(config, { clock, registry });
    requests.inc({ route: 'a', status: '200' }, 100);
    requests.inc({ route: 'b', status: '200' }, 100);
    latency.observe({ route: 'a' }, 0.05);
    await engine.evaluateNow();
    assert.equal(changes.length, 0, 'one sample is not a window: no judgement yet');

    clock.advance(60_000);
    requests.inc({ route: 'a', status: '200' }, 90);
    requests.inc({ route: 'a', status: '503' }, 10);
    requests.inc({ route: 'b', status: '200' }, 100);
    for (let i = 0; i < 90; i++) latency.observe({ route: 'a' }, 0.05);
    for (let i = 0; i < 10; i++) latency.observe({ route: 'a' }, 3);
    await engine.evaluateNow();
    const byId = new Map(changes.map((a) => [a.id, a]));
    assert.equal(byId.get('errors{route="a"}')?.severity, 'warning');
    assert.equal(byId.get('errors{route="a"}')?.value, 0.1);
    assert.equal(byId.has('errors{route="b"}'), false);
    assert.equal(byId.get('rps')?.value, 200 / 60, 'rate per second between the samples');
    const p95 = byId.get('slow{route="a"}')?.value ?? 0;
    assert.ok(p95 > 2 && p95 <= 5, `p95 ${p95} falls in the (2, 5] bucket`);
    assert.deepEqual(byId.get('slow{route="a"}')?.labels, { rule: 'slow', route: 'a', severity: 'warning' });
  });

  it('instant ratios of two series of one metric (available / total memory) with op <', async () => {
    const clock = new ManualClock();
    const registry = new Registry();
    const memory = new Gauge({ name: 'test_memory_bytes', help: 'x', labelNames: ['state'], registers: [registry] });
    const config = testConfig({
      alerting: { rules: [{ name: 'mem', kind: 'threshold', metric: 'test_memory_bytes', match: { state: 'available' }, divideBy: { match: { state: 'total' } }, op: '<', warning: 0.2, critical: 0.1 }] },
    });
    const { engine, changes } = await startEngine(config, { clock, registry });
    memory.set({ state: 'total' }, 1000);
    memory.set({ state: 'available' }, 150);
    await engine.evaluateNow();
    assert.deepEqual(states(changes), ['firing:warning']);
    memory.set({ state: 'available' }, 50);
    await engine.evaluateNow();
    assert.deepEqual(states(changes), ['firing:warning', 'firing:critical']);
  });
});

describe('absence rules', () => {
  it('fire while no series matches and when a counter stops changing for `stale`', async () => {
    const clock = new ManualClock();
    const registry = new Registry();
    const config = testConfig({
      alerting: {
        rules: [
          { name: 'gone', kind: 'absence', metric: 'test_heartbeats_total', match: { job: 'batch' }, for: '1m' },
          { name: 'stuck', kind: 'absence', metric: 'test_jobs_total', stale: '5m' },
        ],
      },
    });
    const jobs = new Counter({ name: 'test_jobs_total', help: 'x', registers: [registry] });
    jobs.inc();
    const { engine, changes } = await startEngine(config, { clock, registry });
    await engine.evaluateNow();
    assert.deepEqual(changes.map((a) => `${a.id}:${a.state}`), ['gone:pending']);
    clock.advance(60_000);
    await engine.evaluateNow();
    assert.deepEqual(changes.map((a) => `${a.id}:${a.state}`).slice(1), ['gone:firing']);
    const beats = new Counter({ name: 'test_heartbeats_total', help: 'x', labelNames: ['job'], registers: [registry] });
    beats.inc({ job: 'batch' });
    clock.advance(3 * 60_000);
    await engine.evaluateNow();
    assert.deepEqual(changes.map((a) => `${a.id}:${a.state}`).slice(2), ['gone:resolved'], 'the series is back');
    clock.advance(60_000 - 1);
    await engine.evaluateNow();
    assert.equal(changes.length, 3, 'unchanged for just under 5m');
    clock.advance(1);
    await engine.evaluateNow();
    assert.deepEqual(changes.map((a) => `${a.id}:${a.state}`).slice(3), ['stuck:firing'], 'no change for 5m');
    jobs.inc();
    await engine.evaluateNow();
    assert.deepEqual(changes.map((a) => `${a.id}:${a.state}`).slice(4), ['stuck:resolved']);
  });
});

describe('event rules', () => {
  it('count real security events per source IP in a sliding window', async () => {
    const clock = new ManualClock();
    const store = openSqliteStore(tempDir());
    const bus = new EventBus((_e, err) => {
      throw err;
    });
    const recorder = new SecurityEventRecorder(store.securityEvents, quietLogger(), (event) => bus.emit('security.event', event));
    const config = testConfig({
      alerting: { rules: [{ name: 'brute', kind: 'event', types: ['auth.*'], by: 'sourceIp', window: '5m', op: '>=', warning: 3, critical: 5, summary: '{{ $value }} failures from {{ $labels.sourceIp }}' }] },
    });
    const { engine, changes } = await startEngine(config, { clock, store, bus });
    const fail = (ip: string, type = 'auth.login_failed'): Promise<void> => {
      const event: SecurityEvent = { at: clock.now(), type, severity: 'medium', sourceIp: ip, identity: 'alice', correlationId: null, details: {} };
      return recorder.record(event);
    };
    await fail('10.0.0.1');
    await fail('10.0.0.1', 'auth.mfa_failed');
    await fail('10.0.0.2');
    await fail('10.0.0.1', 'keys.created');
    await engine.evaluateNow();
    assert.equal(changes.length, 0);
    await fail('10.0.0.1');
    await engine.evaluateNow();
    assert.deepEqual(changes.map((a) => `${a.id}:${a.state}:${a.severity}`), ['brute{sourceIp="10.0.0.1"}:firing:warning']);
    assert.equal(changes[0]?.summary, '3 failures from 10.0.0.1');
    await fail('10.0.0.1');
    await fail('10.0.0.1');
    await engine.evaluateNow();
    assert.equal(changes[1]?.severity, 'critical');

    // Restarted within the window: the count is rebuilt from the stored events, nothing is published again.
    await engine.stop(Date.now() + 1000);
    const again = await startEngine(config, { clock, store });
    await again.engine.evaluateNow();
    assert.equal(again.changes.length, 0);
    assert.equal(again.engine.openAlerts()[0]?.severity, 'critical');
    clock.advance(5 * 60_000);
    await again.engine.evaluateNow();
    assert.deepEqual(again.changes.map((a) => a.state), ['resolved'], 'the events left the window');
  });
});

describe('events no rule matches', () => {
  it('are judged at once on the bus: no promise, no queued evaluation; matching ones still go on to alert', async () => {
    const clock = new ManualClock();
    const config = testConfig({
      monitor: { checks: [{ name: 'db', type: 'tcp', host: '127.0.0.1', port: 1 }] },
      alerting: { rules: [
        { name: 'brute', kind: 'event', types: ['auth.*', 'keys.revoked'], by: 'sourceIp', window: '5m', op: '>=', warning: 2 },
        { name: 'db-down', kind: 'checkState', check: 'db' },
      ] },
    });
    const { bus, changes } = await startEngine(config, { clock });
    const event = (type: string): SecurityEvent => ({ at: clock.now(), type, severity: 'medium', sourceIp: '203.0.113.1', identity: null, correlationId: null, details: {} });
    const refused = event('ratelimit.exceeded');
    const otherCheck = { check: 'cache', at: clock.now(), status: 'down' as const, latencyMs: 1, detail: 'refused' };
    const pendingDb = { ...otherCheck, check: 'db', status: 'pending' as const };
    let promises = 0;
    const stopCounting = promiseHooks.onInit(() => promises++);
    try {
      for (let i = 0; i < 1000; i++) bus.emit('security.event', refused);
      bus.emit('security.event', event('auth'));
      bus.emit('check.result', otherCheck);
      bus.emit('check.result', pendingDb);
    } finally {
      stopCounting();
    }
    assert.equal(promises, 0);
    // The same count sees a matching event queue its evaluation, which fires the rule.
    const counting = promiseHooks.onInit(() => promises++);
    try {
      bus.emit('security.event', event('auth.login_failed'));
    } finally {
      counting();
    }
    assert.ok(promises > 0);
    bus.emit('security.event', event('keys.revoked'));
    await waitFor(() => changes.length > 0, 'the alert');
    assert.deepEqual(changes.map((a) => `${a.id}:${a.state}`), ['brute{sourceIp="203.0.113.1"}:firing']);
  });
});

describe('restart', () => {
  it('restores open alerts without publishing them again, then carries on', async () => {
    const clock = new ManualClock();
    const store = openSqliteStore(tempDir());
    const registry = new Registry();
    const load = new Gauge({ name: 'test_load', help: 'x', registers: [registry] });
    const config = gaugeRule({ for: '1m' });
    const first = await startEngine(config, { clock, registry, store });
    load.set(25);
    await first.engine.evaluateNow();
    clock.advance(60_000);
    await first.engine.evaluateNow();
    assert.deepEqual(states(first.changes), ['pending:critical', 'firing:critical']);
    await first.engine.stop(Date.now() + 1000);

    const second = await startEngine(config, { clock, registry, store });
    await second.engine.evaluateNow();
    clock.advance(60_000);
    await second.engine.evaluateNow();
    assert.equal(second.changes.length, 0, 'still firing: nothing new to publish');
    assert.equal(second.engine.openAlerts()[0]?.firedAt, first.changes[1]?.firedAt);
    load.set(0);
    await second.engine.evaluateNow();
    assert.deepEqual(states(second.changes), ['resolved:critical']);
  });
});
