import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Digest } from '../../src/alerting/index.js';
import type { NotificationPayloadV2 } from '../../src/alerting/index.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { ManualClock, tempDir } from '../support/helpers.js';

const H = 3_600_000;

describe('daily digest', () => {
  it('is queued at its cron time with alerts, uptime, security events, and says when there is no spend data', async () => {
    const clock = new ManualClock(Date.parse('2025-01-06T07:00:00Z'));
    const store = openSqliteStore(tempDir());
    after(() => store.close());
    const t = clock.now();
    for (const [at, event] of [[t - 5 * H, 'firing'], [t - 4 * H, 'resolved'], [t - 2 * H, 'firing'], [t - 30 * H, 'firing']] as const) {
      await store.alertLog.append({ alertId: 'api-down', at, event, severity: 'critical', detail: 'x' });
    }
    await store.alertLog.append({ alertId: 'disk-full', at: t - H, event: 'firing', severity: 'warning', detail: 'x' });
    await store.alertLog.append({ alertId: 'disk-full', at: t - H, event: 'acknowledged', severity: 'warning', detail: 'by alice' });
    for (const type of ['auth.failure', 'auth.failure', 'key.revoked']) {
      await store.securityEvents.append({ at: t - H, type, severity: 'medium', sourceIp: '203.0.113.9', identity: null, correlationId: null, details: {} });
    }
    const digest = new Digest({ receiver: 'ops', cron: '0 8 * * *', timezone: 'UTC' }, store, clock, { uptime: () => Promise.resolve([{ check: 'api', uptime: 0.99875 }, { check: 'db', uptime: null }]) });
    assert.equal(digest.nextAt(), Date.parse('2025-01-06T08:00:00Z'));
    assert.equal(await digest.sendIfDue(), false);
    clock.advance(H);
    assert.equal(await digest.sendIfDue(), true);
    assert.equal(digest.nextAt(), Date.parse('2025-01-07T08:00:00Z'), 'then the next day');
    assert.equal(await digest.sendIfDue(), false, 'once per occurrence');
    const [n] = await store.outbox.due(Number.MAX_SAFE_INTEGER, 10);
    assert.equal(n?.receiver, 'ops');
    assert.equal(n?.kind, 'digest');
    const payload = JSON.parse(n?.payload ?? '{}') as NotificationPayloadV2;
    assert.equal(payload.status, 'digest');
    const sections = Object.fromEntries((payload.digest?.sections ?? []).map((s) => [s.heading, s.lines]));
    assert.deepEqual(sections.Alerts?.slice(0, 3), ['2 alert(s) fired 3 time(s); 1 resolved; 1 acknowledged; 0 escalation step(s)', 'api-down: fired 2x', 'disk-full: fired 1x']);
    assert.deepEqual(sections['Uptime (24h)'], ['api: 99.88%', 'db: no runs']);
    assert.deepEqual(sections['Security events'], ['auth.failure: 2', 'key.revoked: 1']);
    assert.deepEqual(sections.Spend, ['no usage data is recorded, so spend is not available']);
    assert.match(payload.digest?.text ?? '', /^Vigil daily digest 2025-01-05T08:00Z – 2025-01-06T08:00Z\n/);
  });
});
