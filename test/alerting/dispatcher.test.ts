import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { acknowledgeAlert, Dispatcher } from '../../src/alerting/index.js';
import type { NotificationPayloadV2 } from '../../src/alerting/index.js';
import type { Alert, Severity } from '../../src/store/records.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { ManualClock, tempDir } from '../support/helpers.js';
import { quietLogger, testConfig } from './support.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;

const receivers = ['ops', 'chat', 'lead', 'db-team'].map((name) => ({ name, type: 'log' }));

/** A dispatcher with no outbox worker: every notification it makes stays in the outbox to be inspected. */
function harness(alerting: Record<string, unknown>, start = Date.parse('2025-01-06T00:00:00Z'), extra: Record<string, unknown> = {}) {
  const clock = new ManualClock(start);
  const store = openSqliteStore(tempDir());
  after(() => store.close());
  const config = testConfig({ ...extra, alerting: { receivers, ...alerting } });
  const dispatcher = new Dispatcher(config.alerting, store, clock, quietLogger(), Buffer.alloc(32, 7));
  const alerts = new Map<string, Alert>();
  let seen = 0;
  const fire = async (id: string, labels: Record<string, string>, severity: Severity = 'warning') => {
    const now = clock.now();
    const alert: Alert = { id, rule: id, severity, state: 'firing', labels: { alertname: id, ...labels }, summary: `${id} is failing`, pendingSince: now, firedAt: now, resolvedAt: null, updatedAt: now };
    alerts.set(id, alert);
    await store.alerts.upsert(alert);
    await dispatcher.observe(alert);
  };
  const resolve = async (id: string) => {
    const now = clock.now();
    const alert: Alert = { ...(alerts.get(id) as Alert), state: 'resolved', resolvedAt: now, updatedAt: now };
    alerts.set(id, alert);
    await store.alerts.upsert(alert);
    await dispatcher.observe(alert);
  };
  /** Advances the clock and flushes what is due; returns the notifications made since the last call. */
  const at = async (ms: number): Promise<(NotificationPayloadV2 & { to: string })[]> => {
    clock.advance(ms);
    await dispatcher.tick();
    const all = await store.outbox.due(Number.MAX_SAFE_INTEGER, 100_000);
    const fresh = all.slice(seen);
    seen = all.length;
    return fresh.map((n) => ({ ...(JSON.parse(n.payload) as NotificationPayloadV2), to: n.receiver }));
  };
  const summary = (ns: (NotificationPayloadV2 & { to: string })[]) => ns.map((n) => `${n.to}:${n.alerts.map((a) => `${a.id}=${a.status}`).join(',')}`);
  return { clock, store, dispatcher, fire, resolve, at, summary };
}

describe('routing', () => {
  it('walks the tree: first match wins, `continue` goes on, regex and negative matchers, the root takes the rest', async () => {
    const h = harness({
      route: {
        receiver: 'ops',
        groupWait: 0,
        groupInterval: '1m',
        groupBy: ['alertname'],
        routes: [
          { matchers: ['team="db"'], receiver: 'db-team', continue: true },
          { matchers: ['severity=~"critical|page"', 'env!="dev"'], receiver: 'lead', routes: [{ matchers: ['service="chat"'], receiver: 'chat' }] },
          { matchers: ['env!~"prod.*"'], receiver: 'chat' },
        ],
      },
    });
    await h.fire('a', { team: 'db', severity: 'critical', env: 'prod' });
    await h.fire('b', { severity: 'critical', env: 'prod', service: 'chat' });
    await h.fire('c', { severity: 'page', env: 'prod-eu' });
    await h.fire('d', { env: 'staging' });
    await h.fire('e', { env: 'prod' });
    assert.deepEqual(h.summary(await h.at(0)).sort(), ['chat:b=firing', 'chat:d=firing', 'db-team:a=firing', 'lead:a=firing', 'lead:c=firing', 'ops:e=firing']);
  });
});

describe('grouping and timing', () => {
  it('waits group_wait, batches changes per group_interval, repeats after repeat_interval, and sends resolutions', async () => {
    const h = harness({ route: { receiver: 'ops', groupBy: ['service'], groupWait: '30s', groupInterval: '5m', repeatInterval: '1h' } });
    await h.fire('a', { service: 'api' });
    await h.fire('x', { service: 'web' });
    assert.deepEqual(await h.at(29_999), [], 'nothing before group_wait');
    const first = await h.at(1);
    assert.deepEqual(h.summary(first).sort(), ['ops:a=firing', 'ops:x=firing']);
    assert.deepEqual(first.find((n) => n.alerts[0]?.id === 'a')?.groupLabels, { service: 'api' });

    h.clock.advance(10 * S);
    await h.fire('b', { service: 'api' });
    assert.deepEqual(await h.at(5 * M - 10 * S - 1), [], 'a change waits for group_interval');
    assert.deepEqual(h.summary(await h.at(1)), ['ops:a=firing,b=firing'], 'one notification for the group, with both alerts');

    assert.deepEqual(await h.at(5 * M), [], 'no change, no repeat yet');
    const repeats: string[] = [];
    for (let i = 0; i < 12; i++) repeats.push(...h.summary(await h.at(5 * M)));
    assert.deepEqual(repeats.sort(), ['ops:a=firing,b=firing', 'ops:x=firing'], 'each group repeats once per repeat_interval');

    await h.resolve('a');
    const next = await h.at(5 * M);
    const api = next.find((n) => n.groupLabels.service === 'api');
    assert.deepEqual(api?.alerts.map((a) => [a.id, a.status]), [['b', 'firing'], ['a', 'resolved']]);
    assert.equal(api?.status, 'firing');
    await h.resolve('b');
    const last = await h.at(5 * M);
    assert.deepEqual(h.summary(last.filter((n) => n.groupLabels.service === 'api')), ['ops:b=resolved']);
    assert.equal(last.find((n) => n.groupLabels.service === 'api')?.status, 'resolved');
  });

  it('without a route, each rule notifies its own receivers at once, one message per alert', async () => {
    const h = harness({ rules: [{ name: 'api-down', kind: 'checkDown', check: 'api', receivers: ['ops', 'chat'] }] }, undefined, {
      monitor: { checks: [{ name: 'api', type: 'http', url: 'http://127.0.0.1:1/' }] },
    });
    const clock = h.clock;
    const now = clock.now();
    const alert: Alert = { id: 'api-down', rule: 'api-down', severity: 'critical', state: 'firing', labels: { rule: 'api-down', check: 'api' }, summary: 'down', pendingSince: now, firedAt: now, resolvedAt: null, updatedAt: now };
    await h.dispatcher.observe(alert);
    assert.deepEqual(h.summary(await h.at(0)).sort(), ['chat:api-down=firing', 'ops:api-down=firing']);
    await h.dispatcher.observe({ ...alert, state: 'resolved', resolvedAt: now + 1 });
    assert.deepEqual(h.summary(await h.at(1)).sort(), ['chat:api-down=resolved', 'ops:api-down=resolved']);
  });
});

const fast = { receiver: 'ops', groupBy: ['alertname'], groupWait: 0, groupInterval: '1m', repeatInterval: '24h' };

describe('silences', () => {
  // Each row: silenced while firing? was the firing notice sent? → does the resolution reach the receiver?
  it('matrix: a silenced alert is not notified; a resolution follows exactly the firing notices that were sent', async () => {
    const h = harness({ route: fast });
    const now = h.clock.now();
    await h.store.silences.insert({ id: 's1', matchers: ['alertname=~"quiet.*"'], startsAt: now, endsAt: now + 2 * H, author: 'alice', comment: 'maintenance', createdAt: now, expiredAt: null });
    await h.fire('quiet-1', {});
    await h.fire('loud-1', {});
    assert.deepEqual(h.summary(await h.at(0)), ['ops:loud-1=firing'], 'silenced alert not notified');
    const history = await h.store.alertLog.events({ alertId: 'quiet-1', from: 0, to: Number.MAX_SAFE_INTEGER, limit: 10 });
    assert.ok(history.some((e) => e.event === 'suppressed' && e.detail === 'silenced by s1'));

    // Notified first, silenced afterwards: the resolution is still delivered.
    await h.store.silences.insert({ id: 's2', matchers: ['alertname="loud-1"'], startsAt: now, endsAt: now + 2 * H, author: 'bob', comment: 'known', createdAt: now, expiredAt: null });
    await h.resolve('loud-1');
    await h.resolve('quiet-1');
    assert.deepEqual(h.summary(await h.at(M)), ['ops:loud-1=resolved'], 'silenced-after-notify resolves; never-notified stays quiet');
  });

  it('an alert still firing when its silence ends is notified at the next interval', async () => {
    const h = harness({ route: fast });
    const now = h.clock.now();
    await h.store.silences.insert({ id: 's1', matchers: ['alertname="a"'], startsAt: now, endsAt: now + 10 * M, author: 'alice', comment: 'deploy', createdAt: now, expiredAt: null });
    await h.fire('a', {});
    assert.deepEqual(await h.at(0), []);
    assert.deepEqual(await h.at(5 * M), []);
    assert.ok(await h.store.silences.expire('s1', h.clock.now()));
    assert.deepEqual(h.summary(await h.at(M)), ['ops:a=firing']);
  });
});

describe('inhibition', () => {
  const inhibit = [
    { source: ['severity="critical"'], target: ['severity="warning"'], equal: ['service'] },
    { source: ['alertname="db-down"'], target: ['depends_on="db"'], equal: [] },
  ];

  it('matrix: critical inhibits its warning with equal labels only; a down dependency inhibits its dependents', async () => {
    const h = harness({ route: fast, inhibit });
    await h.fire('api-crit', { service: 'api', severity: 'critical' }, 'critical');
    await h.fire('api-warn', { service: 'api', severity: 'warning' });
    await h.fire('web-warn', { service: 'web', severity: 'warning' });
    await h.fire('db-down', { service: 'db' }, 'critical');
    await h.fire('worker-slow', { service: 'worker', depends_on: 'db' });
    assert.deepEqual(h.summary(await h.at(0)).sort(), ['ops:api-crit=firing', 'ops:db-down=firing', 'ops:web-warn=firing']);
    // The source resolves: the target is notified at the next interval.
    await h.resolve('db-down');
    assert.deepEqual(h.summary(await h.at(M)).sort(), ['ops:db-down=resolved', 'ops:worker-slow=firing']);
  });

  it('an alert inhibited after its firing notice still gets its resolution', async () => {
    const h = harness({ route: fast, inhibit });
    await h.fire('api-warn', { service: 'api', severity: 'warning' });
    assert.deepEqual(h.summary(await h.at(0)), ['ops:api-warn=firing']);
    await h.fire('api-crit', { service: 'api', severity: 'critical' }, 'critical');
    assert.deepEqual(h.summary(await h.at(M)), ['ops:api-crit=firing']);
    await h.resolve('api-warn');
    assert.deepEqual(h.summary(await h.at(M)), ['ops:api-warn=resolved']);
  });
});

describe('maintenance windows', () => {
  it('one-off: alerts matching the window are muted inside it and notified after it', async () => {
    const start = Date.parse('2025-01-06T00:00:00Z');
    const h = harness({
      route: fast,
      maintenance: [{ name: 'db-upgrade', matchers: ['service="db"'], start: '2025-01-06T00:00:00Z', end: '2025-01-06T01:00:00Z' }],
    }, start);
    await h.fire('db-slow', { service: 'db' });
    await h.fire('api-slow', { service: 'api' });
    assert.deepEqual(h.summary(await h.at(0)), ['ops:api-slow=firing']);
    assert.deepEqual(await h.at(59 * M), []);
    assert.deepEqual(h.summary(await h.at(M)), ['ops:db-slow=firing'], 'notified once the window closes');
  });

  it('recurring by cron: muted every Sunday 02:00-03:00 UTC, globally', async () => {
    const sunday2am = Date.parse('2025-01-05T02:00:00Z');
    const h = harness({ route: fast, maintenance: [{ name: 'weekly', cron: '0 2 * * 0', duration: '1h' }] }, sunday2am + 10 * M);
    await h.fire('a', {});
    assert.deepEqual(await h.at(0), [], 'inside the window');
    assert.deepEqual(await h.at(49 * M), [], 'still inside (02:59)');
    assert.deepEqual(h.summary(await h.at(M)), ['ops:a=firing'], '03:00: window closed');
    // A week later the window opens again: a new alert is muted, the still-firing one resolves audibly.
    const h2 = harness({ route: fast, maintenance: [{ name: 'weekly', cron: '0 2 * * 0', duration: '1h' }] }, sunday2am - 5 * M);
    await h2.fire('b', {});
    assert.deepEqual(h2.summary(await h2.at(0)), ['ops:b=firing'], 'before the window');
    await h2.resolve('b');
    assert.deepEqual(h2.summary(await h2.at(10 * M)), ['ops:b=resolved'], 'resolution delivered inside the window: it had been notified');
  });
});

describe('escalation and acknowledgement', () => {
  it('unacknowledged after each step → next receiver; an acknowledged alert stops escalating; escalated receivers hear the resolution', async () => {
    const h = harness({ route: { ...fast, escalation: [{ after: '10m', receiver: 'lead' }, { after: '30m', receiver: 'db-team' }] } });
    await h.fire('a', {});
    await h.fire('b', {});
    assert.deepEqual(h.summary(await h.at(0)).sort(), ['ops:a=firing', 'ops:b=firing']);
    assert.equal(h.dispatcher.nextDue(), h.clock.now() + M);
    await acknowledgeAlert(h.store, { alertId: 'b', by: 'alice', via: 'cli', comment: 'on it', now: h.clock.now() });
    const ackNotices = await h.at(0);
    assert.deepEqual(ackNotices.map((n) => [n.to, n.status, n.alerts[0]?.acknowledged?.by]), [['ops', 'acknowledged', 'alice']]);
    assert.deepEqual(await h.at(10 * M - 1), []);
    const step1 = await h.at(1);
    assert.deepEqual(h.summary(step1), ['lead:a=firing']);
    assert.equal(step1[0]?.escalation, '10m');
    assert.deepEqual(await h.at(10 * M), [], 'each step once');
    assert.deepEqual(h.summary(await h.at(10 * M)), ['db-team:a=firing']);
    await h.resolve('a');
    assert.deepEqual(h.summary(await h.at(0)).sort(), ['db-team:a=resolved', 'lead:a=resolved']);
    assert.deepEqual(h.summary(await h.at(M)), ['ops:a=resolved']);
  });

  it('notifications carry a signed acknowledge link when externalUrl is set', async () => {
    const h = harness({ route: fast, externalUrl: 'https://vigil.example.com/console' });
    await h.fire('a', {});
    const [n] = await h.at(0);
    assert.match(n?.alerts[0]?.ackUrl ?? '', /^https:\/\/vigil\.example\.com\/console\/alerts\/ack\/[\w-]+\.[\w-]+$/);
  });
});

describe('rate limit', () => {
  it('a storm of 500 alerts becomes grouped messages within the receiver limit, and every alert is in one', async () => {
    const h = harness({ route: { receiver: 'ops', groupBy: ['...'], groupWait: '10s', groupInterval: '1m', repeatInterval: '24h' }, receivers: [{ name: 'ops', type: 'log', rateLimit: { messages: 10, per: '1m', cooldown: '2m' } }] });
    for (let i = 0; i < 300; i++) await h.fire(`storm-${i}`, { instance: `i${i}` });
    const burst = await h.at(10 * S);
    assert.equal(burst.length, 10, 'at most the limit');
    assert.equal(burst.reduce((n, p) => n + p.alerts.length, 0), 300, 'nothing left out');
    assert.equal(burst[9]?.alerts.length, 291, 'the rest combined in one message');
    // 200 more arrive during the cooldown: held, then one message.
    for (let i = 300; i < 500; i++) await h.fire(`storm-${i}`, { instance: `i${i}` });
    assert.deepEqual(await h.at(10 * S), []);
    assert.deepEqual(await h.at(M), [], 'held during the cooldown');
    const released = await h.at(2 * M);
    assert.equal(released.length, 10);
    const carried = new Set([...burst, ...released].flatMap((p) => p.alerts.map((a) => a.id)));
    assert.equal(carried.size, 500);
  });
});
