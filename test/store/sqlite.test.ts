import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { VigilError } from '../../src/core/errors.js';
import { BatchWriter } from '../../src/store/batch-writer.js';
import { DB_FILE, openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../support/helpers.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof VigilError, String(err));
    return err.code;
  }
  return 'no error';
}

describe('SQLite store', () => {
  it('creates the data dir 0700 and the database 0600', async () => {
    const dir = join(tempDir(), 'nested', 'data');
    const store = openSqliteStore(dir);
    await store.ping();
    await store.close();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, DB_FILE)).mode & 0o777, 0o600);
  });

  it('refuses a data dir or database file with loose permissions, and an unwritable path', () => {
    const loose = tempDir();
    chmodSync(loose, 0o755);
    assert.equal(codeOf(() => openSqliteStore(loose)), 'VGL_STORE_DATA_DIR');

    const dir = tempDir();
    writeFileSync(join(dir, DB_FILE), '', { mode: 0o644 });
    chmodSync(join(dir, DB_FILE), 0o644);
    assert.equal(codeOf(() => openSqliteStore(dir)), 'VGL_STORE_FILE_PERMISSIONS');

    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    assert.equal(codeOf(() => openSqliteStore(join(file, 'data'))), 'VGL_STORE_DATA_DIR');
  });

  it('refuses a database written by a newer Vigil and leaves it untouched', () => {
    const dir = tempDir();
    const db = new Database(join(dir, DB_FILE));
    db.pragma('user_version = 999');
    db.exec('CREATE TABLE precious (v TEXT); INSERT INTO precious VALUES (1)');
    db.close();
    chmodSync(join(dir, DB_FILE), 0o600);
    assert.equal(codeOf(() => openSqliteStore(dir)), 'VGL_STORE_MIGRATION');
    const check = new Database(join(dir, DB_FILE));
    assert.deepEqual(check.prepare('SELECT count(*) AS n FROM precious').get(), { n: 1 });
    assert.equal(check.pragma('user_version', { simple: true }), 999);
    check.close();
  });

  it('keeps data across reopen, and the key revision grows with every change', async () => {
    const dir = tempDir();
    const store = openSqliteStore(dir);
    assert.equal(await store.keys.revision(), 0);
    await store.keys.insert({ id: 'k1', name: 'one', hash: 'h', scopes: ['a'], createdAt: 1, expiresAt: null, revokedAt: null });
    const r1 = await store.keys.revision();
    assert.equal(await store.keys.revoke('k1', 5), true);
    assert.equal(await store.keys.revoke('nope', 5), false);
    const r2 = await store.keys.revision();
    assert.ok(r2 > r1 && r1 > 0);
    await store.close();
    const again = openSqliteStore(dir);
    assert.deepEqual(await again.keys.get('k1'), { id: 'k1', name: 'one', hash: 'h', scopes: ['a'], createdAt: 1, expiresAt: null, revokedAt: 5, owner: null, lastUsedAt: null, lastUsedIp: null, replacedBy: null });
    await again.close();
  });

  it('turns driver failures into coded errors', async () => {
    const store = openSqliteStore(tempDir());
    await store.keys.insert({ id: 'dup', name: 'a', hash: 'h', scopes: [], createdAt: 1, expiresAt: null, revokedAt: null });
    await assert.rejects(
      store.keys.insert({ id: 'dup', name: 'b', hash: 'h', scopes: [], createdAt: 1, expiresAt: null, revokedAt: null }),
      (err: unknown) => err instanceof VigilError && err.code === 'VGL_STORE_FAILED',
    );
    await store.close();
  });

  it('works on a data dir created beforehand with mode 0700', async () => {
    const dir = join(tempDir(), 'pre');
    mkdirSync(dir, { mode: 0o700 });
    const store = openSqliteStore(dir);
    await store.ping();
    await store.close();
  });
});

describe('BatchWriter', () => {
  it('writes in batches, flushes on demand and reports a failed batch without losing later ones', async () => {
    const written: number[][] = [];
    const errors: number[] = [];
    let fail = false;
    const writer = new BatchWriter<number>(
      async (batch) => {
        if (fail) throw new Error('disk full');
        written.push([...batch]);
      },
      (_err, lost) => errors.push(lost),
      { intervalMs: 10_000, maxBatch: 3, maxQueue: 5 },
    );
    writer.push(1);
    writer.push(2);
    writer.push(3); // full batch: written without waiting for the interval
    await writer.flush();
    assert.deepEqual(written, [[1, 2, 3]]);
    fail = true;
    writer.push(4);
    await writer.flush();
    assert.deepEqual(errors, [1]);
    fail = false;
    writer.push(5);
    await writer.flush();
    assert.deepEqual(written, [[1, 2, 3], [5]]);
  });

  it('bounds its queue and counts what it had to drop', async () => {
    const written: number[] = [];
    let dropped = 0;
    const writer = new BatchWriter<number>(async (b) => void written.push(...b), () => undefined, { intervalMs: 10_000, maxBatch: 100, maxQueue: 3 }, () => dropped++);
    for (let i = 0; i < 5; i++) writer.push(i);
    await writer.flush();
    assert.deepEqual(written, [2, 3, 4]);
    assert.equal(dropped, 2);
  });
});
