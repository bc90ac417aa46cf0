import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CheckDownRule } from '../../src/alerting/index.js';
import type { CheckResult } from '../../src/store/records.js';
import { ManualClock, testConfig } from './support.js';

function rule(clock: ManualClock, extra: Record<string, unknown> = {}): CheckDownRule {
  const config = testConfig({
    monitor: { checks: [{ name: 'api', type: 'http', url: 'http://127.0.0.1:1/' }] },
    alerting: {
      receivers: [{ name: 'hook', type: 'webhook', url: 'http://127.0.0.1:1/' }],
      rules: [{ name: 'api-down', kind: 'checkDown', check: 'api', for: '30s', receivers: ['hook'], ...extra }],
    },
  });
  return new CheckDownRule(config.alerting.rules[0]!, clock);
}

const result = (clock: ManualClock, status: 'up' | 'down', check = 'api'): CheckResult => ({
  check,
  at: clock.now(),
  status,
  latencyMs: 3,
  detail: status === 'up' ? 'status 200' : 'connection refused (ECONNREFUSED)',
});

describe('checkDown rule', () => {
  it('goes pending on the first down result and fires exactly when `for` has passed, between results', () => {
    const clock = new ManualClock();
    const r = rule(clock);
    const start = clock.now();
    const pending = r.observe(result(clock, 'down'));
    assert.equal(pending?.alert.state, 'pending');
    assert.equal(pending?.notify, undefined);
    assert.equal(pending?.alert.id, 'api-down');
    assert.equal(pending?.alert.pendingSince, start);
    assert.deepEqual(pending?.alert.labels, { rule: 'api-down', check: 'api' });
    assert.equal(r.firesAt(), start + 30_000);

    clock.advance(10_000);
    assert.equal(r.observe(result(clock, 'down')), undefined, 'still pending: nothing changes');
    clock.advance(19_999);
    assert.equal(r.evaluate(), undefined, '1ms before `for`');
    clock.advance(1);
    const firing = r.evaluate();
    assert.equal(firing?.alert.state, 'firing');
    assert.equal(firing?.notify, 'firing');
    assert.equal(firing?.alert.firedAt, start + 30_000);
    assert.equal(firing?.alert.summary, 'check api is down: connection refused (ECONNREFUSED)');
    assert.equal(r.evaluate(), undefined, 'fires once');
    assert.equal(r.firesAt(), undefined);

    clock.advance(5000);
    const resolved = r.observe(result(clock, 'up'));
    assert.equal(resolved?.alert.state, 'resolved');
    assert.equal(resolved?.notify, 'resolved');
    assert.equal(resolved?.alert.resolvedAt, start + 35_000);
    assert.equal(resolved?.alert.firedAt, start + 30_000);
    assert.equal(r.openAlert, undefined);
  });

  it('resolves silently when the check recovers before `for`', () => {
    const clock = new ManualClock();
    const r = rule(clock);
    r.observe(result(clock, 'down'));
    clock.advance(29_999);
    const resolved = r.observe(result(clock, 'up'));
    assert.equal(resolved?.alert.state, 'resolved');
    assert.equal(resolved?.notify, undefined, 'no one heard it fire, so no one hears it resolve');
    assert.equal(r.observe(result(clock, 'up')), undefined);
  });

  it('fires on the first down result when `for` is 0, with the configured summary', () => {
    const clock = new ManualClock();
    const r = rule(clock, { for: 0, summary: 'API is unreachable' });
    const t = r.observe(result(clock, 'down'));
    assert.equal(t?.alert.state, 'firing');
    assert.equal(t?.alert.summary, 'API is unreachable');
  });

  it('ignores results of other checks', () => {
    const clock = new ManualClock();
    assert.equal(rule(clock).observe(result(clock, 'down', 'other')), undefined);
  });

  it('after a restore, waits for a fresh down result before firing a pending alert', () => {
    const clock = new ManualClock();
    const first = rule(clock);
    const pending = first.observe(result(clock, 'down'));
    clock.advance(60_000);
    const restored = rule(clock);
    restored.restore(pending!.alert);
    assert.equal(restored.evaluate(), undefined, 'no evidence the check is still down');
    const fired = restored.observe(result(clock, 'down'));
    assert.equal(fired?.notify, 'firing');
    assert.equal(fired?.alert.pendingSince, pending?.alert.pendingSince);
  });
});
