import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { AccessRetention } from '../../src/store/access-retention.js';
import type { AccessRecord } from '../../src/store/records.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../support/helpers.js';

const DAY = 24 * 60 * 60 * 1000;

function records(at: number, n: number, tag: string): AccessRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    at: at + i,
    requestId: `${tag}-${i}`,
    route: 'r',
    method: 'GET',
    path: '/x',
    status: 200,
    durationMs: 1,
    clientIp: '127.0.0.1',
    keyId: null,
    errorCode: null,
  }));
}

describe('access record retention', () => {
  it('deletes records past the retention at the clock’s time, in bounded batches, yielding between them', async () => {
    const store = openSqliteStore(tempDir());
    after(() => store.close());
    let now = Date.parse('2026-01-10T00:00:00Z');
    const clock = { now: () => now };
    await store.access.appendMany(records(now - 3 * DAY, 4500, 'old'));
    await store.access.appendMany(records(now - DAY / 2, 10, 'new'));
    const retention = new AccessRetention(store.access, clock, { retentionMs: DAY, batch: 1000, maxBatches: 3 }, (err) => assert.fail(String(err)));

    let yielded = false;
    const first = retention.run();
    setImmediate(() => (yielded = true));
    assert.equal(await first, 3000, 'one run stops after maxBatches');
    assert.ok(yielded, 'the event loop ran between two batches');
    assert.equal(await retention.run(), 1500);
    assert.equal(await retention.run(), 0);
    const left = await store.access.recent(10_000);
    assert.deepEqual(left.map((r) => r.requestId).sort(), records(0, 10, 'new').map((r) => r.requestId).sort());

    // A day later by the clock, the newer ones are past the retention too.
    now += DAY;
    assert.equal(await retention.run(), 10);
    assert.equal((await store.access.recent(10)).length, 0);
  });

  it('keeps everything with a retention of 0s; 30 days by default', async () => {
    const store = openSqliteStore(tempDir());
    after(() => store.close());
    await store.access.appendMany(records(0, 5, 'ancient'));
    const keep = new AccessRetention(store.access, { now: () => Date.now() }, { retentionMs: 0, batch: 10, maxBatches: 1 }, () => undefined);
    keep.start(10);
    assert.equal(await keep.run(), 0);
    await keep.stop();
    assert.equal((await store.access.recent(10)).length, 5);
    assert.equal(parseConfig('{}', 'c.yaml', {}).config.store.accessRetention, 30 * DAY);
    assert.equal(parseConfig('store: { accessRetention: 0s }', 'c.yaml', {}).config.store.accessRetention, 0);
  });
});
