import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AlertingService, RuleEngine } from '../../src/alerting/index.js';
import type { NotificationPayloadV2 } from '../../src/alerting/index.js';
import { EventBus } from '../../src/core/bus.js';
import type { Clock } from '../../src/core/clock.js';
import type { Alert, CheckResult } from '../../src/store/records.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { ManualClock, startServer, tempDir, waitFor } from '../support/helpers.js';
import { quietLogger, testConfig } from './support.js';

async function webhookReceiver(): Promise<{ url: string; payloads: NotificationPayloadV2[] }> {
  const payloads: NotificationPayloadV2[] = [];
  const { url } = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      payloads.push(JSON.parse(Buffer.concat(chunks).toString()) as NotificationPayloadV2);
      res.end();
    });
  });
  return { url, payloads };
}

async function startAlerting(clock: Clock, receiverUrl: string, forDuration: string | number) {
  const store = openSqliteStore(tempDir());
  const bus = new EventBus((_event, err) => {
    throw err;
  });
  const config = testConfig({
    monitor: { checks: [{ name: 'api', type: 'http', url: 'http://127.0.0.1:1/' }] },
    alerting: {
      // Nothing evaluates the rules on its own but their `for` timer: the tests evaluate when they mean to.
      evaluationInterval: '1h',
      receivers: [
        { name: 'ops', type: 'webhook', url: `${receiverUrl}/ops` },
        { name: 'chat', type: 'webhook', url: `${receiverUrl}/chat` },
      ],
      rules: [{ name: 'api-down', kind: 'checkDown', check: 'api', for: forDuration, severity: 'warning', receivers: ['ops', 'chat'] }],
    },
  });
  const deps = { config, store, bus, clock, registry: createMetricsRegistry(), logger: quietLogger() };
  const delivery = new AlertingService({ ...deps, outbox: { pollMs: 50, retry: { baseMs: 20, capMs: 80 } } });
  const rules = new RuleEngine(deps);
  const changes: Alert[] = [];
  bus.on('alert.changed', (alert) => changes.push(alert));
  await delivery.start();
  await rules.start();
  after(async () => {
    await rules.stop(Date.now() + 1000);
    await delivery.stop(Date.now() + 1000);
    await store.close();
  });
  /** Evaluates the rules now and waits until delivery has taken every change in. */
  const alerting = {
    evaluateNow: async () => {
      await rules.evaluateNow();
      await delivery.settled();
    },
    openAlerts: () => rules.openAlerts(),
  };
  const emit = (status: 'up' | 'down') => {
    const result: CheckResult = { check: 'api', at: clock.now(), status, latencyMs: 1, detail: status === 'up' ? 'status 200' : 'status 503 not in [200]' };
    bus.emit('check.result', result);
  };
  return { store, alerting, changes, emit };
}

describe('alerting service', () => {
  it('goes pending, fires exactly at `for`, notifies every receiver, then notifies the resolution', async () => {
    const clock = new ManualClock();
    const hook = await webhookReceiver();
    const { store, alerting, changes, emit } = await startAlerting(clock, hook.url, '1m');
    const start = clock.now();
    emit('down');
    await alerting.evaluateNow();
    assert.equal((await store.alerts.get('api-down'))?.state, 'pending');
    assert.deepEqual(await store.alertLog.receipts('api-down', start), [], 'nothing to say while pending');

    clock.advance(59_999);
    emit('down');
    await alerting.evaluateNow();
    assert.equal((await store.alerts.get('api-down'))?.state, 'pending');

    clock.advance(1);
    await alerting.evaluateNow();
    const firing = await store.alerts.get('api-down');
    assert.equal(firing?.state, 'firing');
    assert.equal(firing?.firedAt, start + 60_000);
    const receipts = await store.alertLog.receipts('api-down', start);
    assert.deepEqual(receipts.map((r) => [r.receiver, r.kind]).sort(), [['chat', 'firing'], ['ops', 'firing']]);
    await waitFor(() => hook.payloads.length === 2, 'firing notices delivered');
    const ops = hook.payloads.find((p) => p.receiver === 'ops');
    assert.deepEqual(ops?.alerts, [
      {
        id: 'api-down',
        rule: 'api-down',
        severity: 'warning',
        status: 'firing',
        labels: { rule: 'api-down', check: 'api', severity: 'warning' },
        annotations: {},
        summary: 'check api is down: status 503 not in [200]',
        startsAt: new Date(start).toISOString(),
        firedAt: new Date(start + 60_000).toISOString(),
        resolvedAt: null,
        acknowledged: null,
        ackUrl: null,
      },
    ]);
    assert.equal(ops?.version, 2);
    assert.equal(ops?.status, 'firing');
    assert.equal(ops?.sentAt, new Date(start + 60_000).toISOString());

    clock.advance(5000);
    emit('up');
    await alerting.evaluateNow();
    assert.equal((await store.alerts.get('api-down'))?.state, 'resolved');
    assert.deepEqual(await store.alerts.open(), []);
    await waitFor(() => hook.payloads.length === 4, 'resolved notices delivered');
    const resolved = hook.payloads[2];
    assert.equal(resolved?.status, 'resolved');
    assert.equal(resolved?.alerts[0]?.resolvedAt, new Date(start + 65_000).toISOString());
    assert.deepEqual(changes.map((a) => a.state), ['pending', 'firing', 'resolved']);
    assert.deepEqual(alerting.openAlerts(), []);
  });

  it('fires at `for` from its own timer when no further result arrives', async () => {
    const clock = new ManualClock();
    const hook = await webhookReceiver();
    const { store, alerting, emit } = await startAlerting(clock, hook.url, 150);
    const start = clock.now();
    emit('down');
    // Takes the result in and arms the rule engine's timer for the 150 ms still to go.
    await alerting.evaluateNow();
    assert.equal((await store.alerts.get('api-down'))?.state, 'pending');
    // From here nothing evaluates the rules but that timer (the evaluation interval is an hour).
    clock.advance(150);
    const alert = await waitFor(async () => {
      const a = await store.alerts.get('api-down');
      return a?.state === 'firing' && a;
    }, 'the alert to fire');
    // The timer fires however late the machine runs it; the alert must still fire at its `for`.
    assert.equal(alert.firedAt, start + 150);
  });

  it('sends no notice for an alert that recovered while pending', async () => {
    const clock = new ManualClock();
    const hook = await webhookReceiver();
    const { store, alerting, changes, emit } = await startAlerting(clock, hook.url, '1m');
    emit('down');
    clock.advance(30_000);
    emit('up');
    await alerting.evaluateNow();
    assert.deepEqual(changes.map((a) => a.state), ['pending', 'resolved']);
    assert.deepEqual(await store.outbox.due(Number.MAX_SAFE_INTEGER, 10), []);
  });
});
