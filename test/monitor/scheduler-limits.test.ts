import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import { CheckScheduler } from '../../src/monitor/index.js';
import type { Check, CheckOutcome } from '../../src/monitor/index.js';
import type { CheckResult } from '../../src/store/records.js';
import { startEngine, testConfig } from '../alerting/support.js';
import { ManualClock, waitFor } from '../support/helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function check(name: string, run: (signal: AbortSignal) => Promise<CheckOutcome>, intervalMs = 50, timeoutMs = 40): Check {
  return { name, type: 'command', intervalMs, timeoutMs, readiness: false, run };
}

function scheduler(results: CheckResult[], extra: { maxConcurrent?: number; retriesOf?: (check: string) => number } = {}): CheckScheduler {
  return new CheckScheduler({ clock: systemClock, onResult: (r) => void results.push(r), onError: (err) => assert.fail(String(err)), maxJitterMs: 0, ...extra });
}

describe('check scheduler limits', () => {
  it('never runs more than maxConcurrent checks at once, and still runs them all', async () => {
    const results: CheckResult[] = [];
    let inFlight = 0;
    let peak = 0;
    const busy = async (): Promise<CheckOutcome> => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await sleep(15);
      inFlight--;
      return { status: 'up', latencyMs: 15, detail: 'ok' };
    };
    const s = scheduler(results, { maxConcurrent: 3 });
    s.start(Array.from({ length: 12 }, (_, i) => check(`c${i}`, busy, 200, 100)));
    await waitFor(() => new Set(results.map((r) => r.check)).size === 12, 'every check to run');
    await s.stop(Date.now() + 1000);
    assert.equal(peak, 3);
  });

  it('never stalls: many hung checks that ignore their abort free their slots at the timeout', async () => {
    const results: CheckResult[] = [];
    const hung = (): Promise<CheckOutcome> => new Promise<CheckOutcome>(() => undefined); // never settles, ignores abort
    const s = scheduler(results, { maxConcurrent: 4 });
    const checks = Array.from({ length: 50 }, (_, i) => check(`hung${i}`, hung, 1000, 30));
    checks.push(check('healthy', async () => ({ status: 'up', latencyMs: 1, detail: 'ok' }), 40, 30));
    s.start(checks);
    await waitFor(() => results.filter((r) => r.check === 'healthy').length >= 2, 'the healthy check to keep running');
    await waitFor(() => results.filter((r) => r.check.startsWith('hung')).length >= 50, 'every hung check to be reported');
    await s.stop(Date.now() + 200);
    const hungResult = results.find((r) => r.check === 'hung0');
    assert.equal(hungResult?.detail, 'timed out after 30ms');
  });

  it('reports the first failures as pending (retries), then down; an up run resets the count', async () => {
    const results: CheckResult[] = [];
    const script = ['down', 'down', 'down', 'up', 'down', 'down', 'down', 'down'];
    let n = 0;
    const s = scheduler(results, { retriesOf: () => 2 });
    s.start([
      check('flaky', async () => {
        const status = (script[n++] ?? 'up') as 'up' | 'down';
        return { status, latencyMs: 1, detail: status === 'up' ? 'ok' : 'status 500 not in [200]' };
      }, 20, 15),
    ]);
    await waitFor(() => results.length >= script.length, 'the scripted runs');
    await s.stop(Date.now() + 1000);
    assert.deepEqual(results.slice(0, script.length).map((r) => r.status), ['pending', 'pending', 'down', 'up', 'pending', 'pending', 'down', 'down']);
    assert.equal(results[0]?.detail, 'status 500 not in [200] (failure 1 of 3 before down)');
  });
});

describe('pending results and the check-state rule', () => {
  it('neither opens nor resolves an alert on a pending result', async () => {
    const config = testConfig({
      monitor: { checks: [{ name: 'api', type: 'tcp', host: '127.0.0.1', port: 1 }] },
      alerting: { rules: [{ name: 'api-down', kind: 'checkDown', check: 'api' }] },
    });
    const clock = new ManualClock();
    const { engine, bus } = await startEngine(config, { clock });
    const result = (status: CheckResult['status']): CheckResult => ({ check: 'api', at: clock.now(), status, latencyMs: 1, detail: 'x' });
    bus.emit('check.result', result('pending'));
    await engine.evaluateNow();
    assert.deepEqual(engine.openAlerts(), []);
    bus.emit('check.result', result('down'));
    await engine.evaluateNow();
    assert.equal(engine.openAlerts()[0]?.state, 'firing');
    bus.emit('check.result', result('pending'));
    await engine.evaluateNow();
    assert.equal(engine.openAlerts()[0]?.state, 'firing', 'a pending result does not resolve a firing alert');
  });
});
