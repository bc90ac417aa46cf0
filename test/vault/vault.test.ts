import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { openVault } from '../../src/vault/open.js';
import { parseConfig } from '../../src/config/load.js';
import { openTestVault, who } from './support.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: { code?: string }) => err.code === code);
}

describe('vault: envelope encryption', () => {
  it('generates a 0600 master key on first start and round-trips values by version', async () => {
    const v = await openTestVault();
    const keyFile = join(v.dataDir, 'master.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(await v.secrets.set('OPENAI_KEY', bytes('sk-first'), who), 1);
    assert.equal(await v.secrets.set('OPENAI_KEY', bytes('sk-second'), who), 2);
    assert.equal((await v.secrets.reveal('OPENAI_KEY', who)).toString(), 'sk-second');
    assert.equal((await v.secrets.reveal('OPENAI_KEY', who, 1)).toString(), 'sk-first');
    assert.deepEqual((await v.secrets.list()).map((s) => [s.name, s.version]), [['OPENAI_KEY', 2]]);
    // Nothing in the database file holds the plaintext.
    const db = readFileSync(join(v.dataDir, 'vigil.db'));
    assert.equal(db.includes('sk-second'), false);
    assert.equal(db.includes('sk-first'), false);
  });

  it('uses a fresh 96-bit nonce every time: equal values give different ciphertexts', async () => {
    const v = await openTestVault();
    await v.secrets.set('A', bytes('same'), who);
    await v.secrets.set('A', bytes('same'), who);
    const [one, two] = await v.store.secrets.versions('A');
    assert.notDeepEqual(one?.ciphertext, two?.ciphertext);
    assert.notDeepEqual(one?.ciphertext.subarray(0, 12), two?.ciphertext.subarray(0, 12));
  });

  it('a ciphertext moved to another name or version fails to decrypt', async () => {
    const v = await openTestVault();
    await v.secrets.set('ALPHA', bytes('alpha-value'), who);
    await v.secrets.set('BETA', bytes('beta-value'), who);
    await v.secrets.set('BETA', bytes('beta-value-2'), who);
    const db = new Database(join(v.dataDir, 'vigil.db'));
    // Swap the whole encrypted rows (value and wrapped data key) between the two names.
    const row = (name: string, version: number) =>
      db.prepare('SELECT ciphertext, wrapped_key FROM secret_versions WHERE name = ? AND version = ?').get(name, version) as { ciphertext: Buffer; wrapped_key: Buffer };
    const alpha = row('ALPHA', 1);
    const beta = row('BETA', 1);
    const update = db.prepare('UPDATE secret_versions SET ciphertext = ?, wrapped_key = ? WHERE name = ? AND version = ?');
    update.run(beta.ciphertext, beta.wrapped_key, 'ALPHA', 1);
    update.run(alpha.ciphertext, alpha.wrapped_key, 'BETA', 1);
    // And move version 2's ciphertext onto version 1 under the same data key name.
    const betaTwo = row('BETA', 2);
    update.run(betaTwo.ciphertext, betaTwo.wrapped_key, 'BETA', 2 - 1);
    db.close();
    await rejectsWith(v.secrets.reveal('ALPHA', who), 'VGL_VAULT_DECRYPT_FAILED');
    await rejectsWith(v.secrets.reveal('BETA', who, 1), 'VGL_VAULT_DECRYPT_FAILED');
    assert.equal((await v.secrets.reveal('BETA', who, 2)).toString(), 'beta-value-2');
  });

  it('a flipped bit in a stored ciphertext fails to decrypt', async () => {
    const v = await openTestVault();
    await v.secrets.set('X', bytes('value-x'), who);
    const db = new Database(join(v.dataDir, 'vigil.db'));
    const { ciphertext } = db.prepare("SELECT ciphertext FROM secret_versions WHERE name = 'X'").get() as { ciphertext: Buffer };
    ciphertext[14] = (ciphertext[14] as number) ^ 1;
    db.prepare("UPDATE secret_versions SET ciphertext = ? WHERE name = 'X'").run(ciphertext);
    db.close();
    await rejectsWith(v.secrets.reveal('X', who), 'VGL_VAULT_DECRYPT_FAILED');
  });

  it('a wrong master key is refused with a clear error, and nothing is overwritten', async () => {
    const v = await openTestVault();
    await v.secrets.set('KEEP', bytes('keep-me'), who);
    const keyFile = join(v.dataDir, 'master.key');
    const original = readFileSync(keyFile, 'utf8');
    await v.store.close();
    const before = readFileSync(join(v.dataDir, 'vigil.db'));
    for (const env of [{ VIGIL_MASTER_KEY: randomBytes(32).toString('base64') }, { VIGIL_MASTER_KEY: randomBytes(32).toString('hex') }]) {
      const store = openSqliteStore(v.dataDir);
      const parts = openVault({ store, dataDir: v.dataDir, config: parseConfig('{}', 't', {}).config, env, clock: { now: Date.now } });
      await assert.rejects(parts.ready(), (err: { code?: string; message: string }) => {
        assert.equal(err.code, 'VGL_VAULT_MASTER_KEY_WRONG');
        assert.match(err.message, /wrapped by master key [0-9a-f]{16}, but the key given is [0-9a-f]{16}; nothing was read or changed/);
        return true;
      });
      await store.close();
    }
    assert.equal(readFileSync(keyFile, 'utf8'), original);
    assert.deepEqual(readFileSync(join(v.dataDir, 'vigil.db')), before);
    // The right key (from the environment this time) still reads the secret.
    const again = await openTestVault({ dataDir: v.dataDir, env: { VIGIL_MASTER_KEY: original.trim() } });
    assert.equal((await again.secrets.reveal('KEEP', who)).toString(), 'keep-me');
  });

  it('a missing key file over existing secrets is refused, never regenerated', async () => {
    const v = await openTestVault();
    await v.secrets.set('KEEP', bytes('keep-me'), who);
    await v.store.close();
    unlinkSync(join(v.dataDir, 'master.key'));
    await rejectsWith(openTestVault({ dataDir: v.dataDir }), 'VGL_VAULT_MASTER_KEY_MISSING');
    assert.equal(existsSync(join(v.dataDir, 'master.key')), false);
  });

  it('refuses a group- or world-readable key file and a malformed one', async () => {
    const v = await openTestVault();
    await v.store.close();
    const keyFile = join(v.dataDir, 'master.key');
    chmodSync(keyFile, 0o644);
    await assert.rejects(openTestVault({ dataDir: v.dataDir }), (err: { code?: string; message: string }) => err.code === 'VGL_STORE_FILE_PERMISSIONS' && /chmod 600/.test(err.message));
    chmodSync(keyFile, 0o600);
    writeFileSync(keyFile, 'changeme\n');
    await rejectsWith(openTestVault({ dataDir: v.dataDir }), 'VGL_VAULT_MASTER_KEY_INVALID');
    for (const bad of ['', 'short', 'z'.repeat(64), randomBytes(16).toString('base64')]) {
      await rejectsWith(openTestVault({ env: { VIGIL_MASTER_KEY: bad === '' ? ' ' : bad } }), 'VGL_VAULT_MASTER_KEY_INVALID');
    }
  });

  it('rejects bad names and values with coded errors and stores nothing', async () => {
    const v = await openTestVault();
    for (const name of ['', ' x', 'a/b', 'x'.repeat(129), '../etc', 'vigil.audit-signing-key', 'name\n']) {
      await rejectsWith(v.secrets.set(name, bytes('v'), who), 'VGL_SECRET_INVALID');
    }
    await rejectsWith(v.secrets.set('EMPTY', Buffer.alloc(0), who), 'VGL_SECRET_INVALID');
    await rejectsWith(v.secrets.set('BIG', Buffer.alloc(64 * 1024 + 1, 1), who), 'VGL_SECRET_INVALID');
    assert.deepEqual(await v.secrets.list(), []);
    await rejectsWith(v.secrets.reveal('NOPE', who), 'VGL_SECRET_NOT_FOUND');
    await rejectsWith(v.secrets.delete('NOPE', who), 'VGL_SECRET_NOT_FOUND');
    await rejectsWith(v.secrets.rollback('NOPE', 1, who), 'VGL_SECRET_NOT_FOUND');
  });

  it('rolls back by writing the old value as a new version, and deletes every version', async () => {
    const v = await openTestVault();
    await v.secrets.set('S', bytes('one'), who);
    await v.secrets.set('S', bytes('two'), who);
    assert.equal(await v.secrets.rollback('S', 1, who), 3);
    assert.equal((await v.secrets.reveal('S', who)).toString(), 'one');
    assert.deepEqual((await v.secrets.versions('S')).map((x) => x.version), [1, 2, 3]);
    await rejectsWith(v.secrets.rollback('S', 9, who), 'VGL_SECRET_NOT_FOUND');
    await v.secrets.delete('S', who);
    await rejectsWith(v.secrets.versions('S'), 'VGL_SECRET_NOT_FOUND');
  });
});
