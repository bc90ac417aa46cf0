import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { VigilError } from '../../src/core/errors.js';
import { BatchWriter } from '../../src/store/batch-writer.js';
import type { AccessRecord } from '../../src/store/records.js';
import { DB_FILE, openSqliteStore, SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { startApp, startServer, tempDir } from '../support/helpers.js';

function records(n: number, tag: string): AccessRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    at: 1_700_000_000_000 + i,
    requestId: `${tag}-${i}`,
    route: 'agents',
    method: 'POST',
    path: `/agents/v1/chat/completions?n=${i}`,
    status: i % 7 === 0 ? 502 : 200,
    durationMs: 1.25,
    clientIp: '192.0.2.7',
    keyId: i % 2 === 0 ? 'k_abc' : null,
    errorCode: i % 7 === 0 ? 'VGL_GATEWAY_UPSTREAM_UNREACHABLE' : null,
    upstream: 'http://127.0.0.1:9',
    connectMs: 0.1,
    ttfbMs: 0.5,
    upstreamMs: 0.9,
  }));
}

/** What the store keeps of a record (the upstream timings are for the access log only). */
function stored(record: AccessRecord): AccessRecord {
  const { upstream: _u, connectMs: _c, ttfbMs: _t, upstreamMs: _m, ...kept } = record;
  return kept;
}

function isStoreFailure(err: unknown): boolean {
  return err instanceof VigilError && err.code === 'VGL_STORE_FAILED';
}

async function count(dataDir: string): Promise<number> {
  const store = openSqliteStore(dataDir);
  try {
    return (await store.access.recent(1_000_000)).length;
  } finally {
    await store.close();
  }
}

describe('access record writer thread', () => {
  it('writes records that recent() reads at once, and close() waits for every batch sent before it', async () => {
    const dataDir = tempDir();
    const store = openSqliteStore(dataDir);
    const first = records(3, 'first');
    await store.access.appendMany(first);
    assert.deepEqual(await store.access.recent(10), first.map(stored).reverse());

    // Sent and not awaited, as the app's last flush is followed by close(): none may be lost.
    const writes = Array.from({ length: 20 }, (_, i) => store.access.appendMany(records(100, `batch${i}`)));
    await store.close();
    await Promise.all(writes);
    await assert.rejects(store.access.appendMany(records(1, 'late')), isStoreFailure);
    assert.equal(await count(dataDir), 3 + 20 * 100);
  });

  it('rejects a batch the database refuses with VGL_STORE_FAILED, reported as lost by the BatchWriter, and writes the next one', async () => {
    const dataDir = tempDir();
    const store = openSqliteStore(dataDir);
    after(() => store.close());
    const lost: { code: unknown; lost: number }[] = [];
    const writer = new BatchWriter<AccessRecord>(
      (batch) => store.access.appendMany(batch),
      (err, n) => lost.push({ code: (err as VigilError).code, lost: n }),
      { intervalMs: 10_000, maxBatch: 1000, maxQueue: 10_000 },
    );
    for (const record of records(1, 'before')) writer.push(record);
    await writer.flush();
    // Another connection to the same file, as an operator's sqlite3 shell: the table is moved away.
    const shell = new Database(join(dataDir, DB_FILE));
    after(() => shell.close());
    shell.exec('ALTER TABLE access_records RENAME TO access_records_aside');
    for (const record of records(5, 'refused')) writer.push(record);
    await writer.flush();
    assert.deepEqual(lost, [{ code: 'VGL_STORE_FAILED', lost: 5 }]);

    shell.exec('ALTER TABLE access_records_aside RENAME TO access_records');
    for (const record of records(4, 'kept')) writer.push(record);
    await writer.flush();
    assert.equal(lost.length, 1);
    assert.deepEqual((await store.access.recent(10)).map((r) => r.requestId).sort(), ['before-0', 'kept-0', 'kept-1', 'kept-2', 'kept-3']);
    assert.equal(await store.access.pruneBefore(Date.now(), 2), 2, 'prunes run on the same thread');
  });

  it('when the thread dies, what it was sent and the calls until it is back are rejected; it restarts by itself, also after failing to open the database', async () => {
    const root = tempDir();
    const dataDir = join(root, 'data');
    let restarts = 0;
    const store = openSqliteStore(dataDir, { restarted: () => restarts++ });
    after(() => store.close());
    await store.access.appendMany(records(1, 'before'));

    // 50,000 rows keep the thread busy well past the moment it is ended.
    const inFlight = store.access.appendMany(records(50_000, 'in-flight'));
    await store.accessWriter.crash();
    await assert.rejects(inFlight, isStoreFailure);
    await assert.rejects(store.access.appendMany(records(1, 'while-down')), isStoreFailure);

    // The data directory goes away before the restart: the new thread cannot open the database.
    renameSync(dataDir, join(root, 'elsewhere'));
    let openFailure: unknown;
    for (const deadline = Date.now() + 20_000; !openFailure && Date.now() < deadline; await sleep(20)) {
      await store.access.appendMany(records(1, 'no-dir')).then(
        () => assert.fail('written without its database'),
        (err: unknown) => {
          assert.ok(isStoreFailure(err), String(err));
          if ((err as Error).message.includes('cannot open')) openFailure = err;
        },
      );
    }
    assert.ok(openFailure, 'a restarted thread that cannot open the database rejects what it was sent');
    assert.ok(restarts >= 1, 'the restart is reported');
    const restartsBeforeRecovery = restarts;

    // Back in place: a later restart opens it and writing resumes, without anything from outside.
    renameSync(join(root, 'elsewhere'), dataDir);
    let recovered = false;
    for (const deadline = Date.now() + 20_000; !recovered && Date.now() < deadline; await sleep(20)) {
      recovered = await store.access.appendMany(records(1, 'after')).then(() => true, () => false);
    }
    assert.ok(recovered, 'the writer recovered by itself');
    assert.ok(restarts > restartsBeforeRecovery, 'each new thread is reported');
    assert.deepEqual((await store.access.recent(10)).map((r) => r.requestId), ['after-0', 'before-0']);
  });

  it('close(deadline) ends a thread held by a lock at the deadline: what it had is rejected, reported abandoned, and not written', async () => {
    const dataDir = tempDir();
    const abandoned: number[] = [];
    const store = openSqliteStore(dataDir, { abandoned: (n) => abandoned.push(n) });
    await store.access.appendMany(records(1, 'before'));
    // Another connection holds the write lock, as a stuck backup or an operator's open transaction
    // would: the thread's insert waits in SQLite's busy handler (busy_timeout, 5 s).
    const shell = new Database(join(dataDir, DB_FILE));
    after(() => shell.close());
    shell.exec('BEGIN EXCLUSIVE');
    const held = [store.access.appendMany(records(7, 'held')), store.access.appendMany(records(3, 'behind'))];
    const rejected = held.map((write) => assert.rejects(write, isStoreFailure));
    const started = Date.now();
    await store.close(started + 300);
    const took = Date.now() - started;
    assert.ok(took >= 290 && took < 2000, `close took ${took} ms for a 300 ms deadline (the lock waits 5 s)`);
    await Promise.all(rejected);
    assert.deepEqual(abandoned, [10]);
    await assert.rejects(store.access.appendMany(records(1, 'late')), isStoreFailure);

    shell.exec('ROLLBACK');
    // The ended thread never commits: only the record written before the lock is there.
    assert.equal(await count(dataDir), 1);
  });

  it('close(deadline) still waits for a healthy thread and reports nothing abandoned', async () => {
    const dataDir = tempDir();
    const abandoned: number[] = [];
    const store = openSqliteStore(dataDir, { abandoned: (n) => abandoned.push(n) });
    const writes = Array.from({ length: 5 }, (_, i) => store.access.appendMany(records(200, `batch${i}`)));
    await store.close(Date.now() + 10_000);
    await Promise.all(writes);
    assert.deepEqual(abandoned, []);
    assert.equal(await count(dataDir), 1000);
  });

  it('holds the main thread only to hand a large batch over, not while it is written', async () => {
    const store = openSqliteStore(tempDir());
    after(() => store.close());
    await store.access.appendMany(records(1, 'warm-up'));
    const rows = records(50_000, 'big');
    // Written on the main thread, as before, the batch would hold it from the call to the answer:
    // one gap as long as the whole write. Now the longest gap is the copy to the thread.
    let last = performance.now();
    let longestGap = 0;
    let ticks = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
      ticks++;
    }, 2);
    const started = performance.now();
    await store.access.appendMany(rows);
    const writeMs = performance.now() - started;
    clearInterval(ticker);
    assert.equal((await store.access.recent(100_000)).length, 50_001);
    assert.ok(ticks >= 3, `the loop ticked ${ticks} times while the batch was written`);
    assert.ok(longestGap < writeMs / 2, `longest pause ${longestGap.toFixed(1)} ms while the batch took ${writeMs.toFixed(1)} ms`);
  });
});

describe('access records in the app: metrics and a bounded shutdown', () => {
  it('counts lost records and thread restarts on /metrics, and stops within shutdown.timeout when the thread is held by a lock', async () => {
    const { url } = await startServer((_req, res) => res.end('ok'));
    const { app, gatewayUrl, consoleUrl, dataDir, log } = await startApp({
      gateway: { routes: [{ name: 'open', prefix: '/open/', upstream: url, auth: 'none' }] },
      shutdown: { timeout: '1s' },
    });
    const { store } = app;
    assert.ok(store instanceof SqliteStore);
    const get = async (n: number, tag: string) => {
      for (let i = 0; i < n; i++) await (await request(`${gatewayUrl}/open/${tag}-${i}`)).body.dump();
    };
    const logged = (msg: string) => log.records().filter((r) => r.msg === msg);
    const until = async (what: string, done: () => boolean | Promise<boolean>) => {
      for (const deadline = Date.now() + 10_000; !(await done()); await sleep(20)) assert.ok(Date.now() < deadline, what);
    };
    const metrics = async () => (await request(`${consoleUrl}/metrics`)).body.text();

    await get(2, 'stored');
    await until('the first records are stored', async () => (await store.access.recent(10)).length === 2);

    // The table is moved away, as an operator's sqlite3 shell could: the next batch is refused.
    const shell = new Database(join(dataDir, DB_FILE));
    after(() => shell.close());
    shell.exec('ALTER TABLE access_records RENAME TO access_records_aside');
    await get(3, 'refused');
    await until('the refused batch is logged', () => logged('access records could not be written').length === 1);
    shell.exec('ALTER TABLE access_records_aside RENAME TO access_records');

    // The thread dies; the next batch goes to the thread started in its place.
    await store.accessWriter.crash();
    await get(1, 'after-crash');
    await until('records are stored again after the restart', async () => (await store.access.recent(10)).length === 3);

    const text = await metrics();
    assert.match(text, /^vigil_store_access_records_lost_total\{reason="write_failed"\} 3$/m);
    assert.match(text, /^vigil_store_access_writer_restarts_total 1$/m);

    // The write lock is held through the shutdown: the thread cannot write the last batch.
    shell.exec('BEGIN EXCLUSIVE');
    await get(4, 'at-shutdown');
    const started = Date.now();
    await app.stop();
    const took = Date.now() - started;
    // Unbounded, the stop would wait for SQLite's 5 s busy timeout; bounded, by shutdown.timeout (1 s).
    assert.ok(took < 3000, `stopped after ${took} ms`);
    const [warning] = logged('store close deadline reached; the access record writer thread was ended with records unwritten');
    assert.deepEqual({ code: warning?.code, lost: warning?.lost, level: warning?.level }, { code: 'VGL_SHUTDOWN_TIMEOUT', lost: 4, level: 'warn' });
    assert.deepEqual(
      logged('access records could not be written').map((r) => [(r.err as { code?: string }).code, r.lost]),
      [
        ['VGL_STORE_FAILED', 3],
        ['VGL_STORE_FAILED', 4],
      ],
    );
    assert.match(await app.registry.metrics(), /^vigil_store_access_records_lost_total\{reason="write_failed"\} 7$/m);
    assert.ok(logged('vigil stopped').length === 1, 'the shutdown went on after the store');
    shell.exec('ROLLBACK');
  });
});
