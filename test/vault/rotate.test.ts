import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { runVigil, vigilArgs } from '../support/cli.js';
import { tempDir } from '../support/helpers.js';
import { openTestVault, who } from './support.js';

const COUNT = 120;

function keyIds(dataDir: string): Map<string, number> {
  const db = new Database(join(dataDir, 'vigil.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT master_key_id AS id, count(*) AS n FROM secret_versions GROUP BY master_key_id').all() as { id: string; n: number }[];
    return new Map(rows.map((r) => [r.id, r.n]));
  } finally {
    db.close();
  }
}

describe('vigil secrets rotate-master', () => {
  it('killed with SIGKILL midway, resumes on the next run; every secret decrypts throughout', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, `store: { dataDir: "${dataDir}" }\n`);
    // A "running server": opened before the rotation, it keeps reading and writing while it happens.
    const live = await openTestVault({ dataDir });
    for (let i = 0; i < COUNT; i++) await live.secrets.set(`S${i}`, Buffer.from(`value-${i}`), who);
    const oldKey = readFileSync(join(dataDir, 'master.key'), 'utf8');
    const oldId = live.vault.keyring.current?.id as string;

    const child = spawn(process.execPath, vigilArgs('secrets', 'rotate-master', '--config', config, '--batch-size', '2', '--pause', '40ms'), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ids = keyIds(dataDir);
      if (ids.size === 2 && (ids.get(oldId) ?? 0) < COUNT - 10) break;
      assert.ok(Date.now() < deadline && child.exitCode === null, `rotation did not progress: ${output}`);
      await sleep(20);
    }
    child.kill('SIGKILL');
    await exited;
    const mid = keyIds(dataDir);
    assert.equal(mid.size, 2, 'killed midway: rows under both keys');
    assert.ok(existsSync(join(dataDir, 'master.key.next')));
    assert.equal(readFileSync(join(dataDir, 'master.key'), 'utf8'), oldKey, 'the old key is untouched until the end');

    // No downtime: the live process reads both kinds of rows and writes under the new key.
    for (const i of [0, 1, COUNT - 1]) assert.equal((await live.secrets.reveal(`S${i}`, who)).toString(), `value-${i}`);
    await live.secrets.set('DURING', Buffer.from('written mid-rotation'), who);
    assert.notEqual((await live.store.secrets.get('DURING'))?.masterKeyId, oldId);

    const resumed = runVigil(['secrets', 'rotate-master', '--config', config]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, /master key is now [0-9a-f]{16}/);
    assert.equal(existsSync(join(dataDir, 'master.key.next')), false);
    assert.notEqual(readFileSync(join(dataDir, 'master.key'), 'utf8'), oldKey);
    const backup = join(dataDir, 'backups', `master.key.${oldId}`);
    assert.equal(readFileSync(backup, 'utf8'), oldKey, 'the retired key is kept for older backups');
    assert.equal(statSync(backup).mode & 0o777, 0o400);
    assert.match(resumed.stdout, /retired key is kept in .*backups\/master\.key\.[0-9a-f]{16} \(0400\)/);
    const after = keyIds(dataDir);
    assert.equal(after.size, 1);
    assert.equal(after.has(oldId), false);
    for (let i = 0; i < COUNT; i++) assert.equal((await live.secrets.reveal(`S${i}`, who)).toString(), `value-${i}`);
    assert.equal((await live.secrets.reveal('DURING', who)).toString(), 'written mid-rotation');
    // A fresh process with the new key file reads everything; the old key no longer does.
    const fresh = await openTestVault({ dataDir });
    assert.equal((await fresh.secrets.reveal(`S${COUNT - 1}`, who)).toString(), `value-${COUNT - 1}`);
    await assert.rejects(openTestVault({ dataDir, env: { VIGIL_MASTER_KEY: oldKey.trim() } }), (err: { code?: string }) => err.code === 'VGL_VAULT_MASTER_KEY_WRONG');
  });

  it('with VIGIL_MASTER_KEY, rotates to VIGIL_MASTER_KEY_NEXT and refuses without it', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, `store: { dataDir: "${dataDir}" }\n`);
    const oldKey = 'a'.repeat(64);
    const newKey = 'b'.repeat(64);
    const v = await openTestVault({ dataDir, env: { VIGIL_MASTER_KEY: oldKey } });
    await v.secrets.set('E', Buffer.from('env-value'), who);
    const run = (env: NodeJS.ProcessEnv) => runVigil(['secrets', 'rotate-master', '--config', config], { env });
    const refused = run({ VIGIL_MASTER_KEY: oldKey });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /VGL_VAULT_MASTER_KEY_INVALID.*VIGIL_MASTER_KEY_NEXT/);
    const done = run({ VIGIL_MASTER_KEY: oldKey, VIGIL_MASTER_KEY_NEXT: newKey });
    assert.equal(done.status, 0, done.stderr);
    assert.match(done.stdout, /set VIGIL_MASTER_KEY to the value of VIGIL_MASTER_KEY_NEXT/);
    assert.ok(!done.stdout.includes(newKey) && !done.stderr.includes(newKey));
    const after = await openTestVault({ dataDir, env: { VIGIL_MASTER_KEY: newKey } });
    assert.equal((await after.secrets.reveal('E', who)).toString(), 'env-value');
  });
});
