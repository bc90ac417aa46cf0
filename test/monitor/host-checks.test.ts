import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../support/helpers.js';
import { buildCheck, runOnce } from './support.js';

const dir = tempDir();

describe('disk check', () => {
  it('reports the free percentage as its value and is down under the threshold', async () => {
    const up = await runOnce(buildCheck({ type: 'disk', path: dir, minFreePercent: 0 }));
    assert.equal(up.status, 'up', up.detail);
    assert.match(up.detail, /^\d+(\.\d)?% free \(.+ of .+\)$/);
    assert.ok(up.value !== undefined && up.value >= 0 && up.value <= 100);
    const down = await runOnce(buildCheck({ type: 'disk', path: dir, minFreePercent: 100 }));
    assert.equal(down.status, 'down');
    assert.match(down.detail, /below 100%$/);
    const bytes = await runOnce(buildCheck({ type: 'disk', path: dir, minFreePercent: 0, minFreeBytes: Number.MAX_SAFE_INTEGER }));
    assert.match(bytes.detail, /below .*PiB$/);
  });

  it('is down with a coded reason for a path that does not exist', async () => {
    const outcome = await runOnce(buildCheck({ type: 'disk', path: join(dir, 'missing', 'x') }));
    assert.deepEqual([outcome.status, outcome.detail], ['down', 'cannot measure the file system (ENOENT)']);
  });
});

describe('filesystem check', () => {
  it('writes, reads back and deletes a file, leaving nothing behind', async () => {
    const work = join(dir, 'fs-ok');
    (await import('node:fs')).mkdirSync(work);
    const outcome = await runOnce(buildCheck({ type: 'filesystem', directory: work }));
    assert.deepEqual([outcome.status, outcome.detail], ['up', 'write, read and delete ok']);
    assert.deepEqual(readdirSync(work), []);
  });

  it('is down saying which step failed for a missing or read-only directory', async () => {
    const missing = await runOnce(buildCheck({ type: 'filesystem', directory: join(dir, 'nope') }));
    assert.deepEqual([missing.status, missing.detail], ['down', 'write failed (ENOENT)']);
    if (process.getuid?.() === 0) return; // root writes through permissions
    const readOnly = join(dir, 'ro');
    (await import('node:fs')).mkdirSync(readOnly, { mode: 0o500 });
    after(() => chmodSync(readOnly, 0o700));
    const denied = await runOnce(buildCheck({ type: 'filesystem', directory: readOnly }));
    assert.deepEqual([denied.status, denied.detail], ['down', 'write failed (EACCES)']);
  });
});

describe('process check', () => {
  it('is up for a live pid file with the RSS as value, down once the process ends', async () => {
    const child = spawn('sleep', ['30']);
    after(() => child.kill('SIGKILL'));
    const pidFile = join(dir, 'sleep.pid');
    writeFileSync(pidFile, `${child.pid}\n`);
    const up = await runOnce(buildCheck({ type: 'process', pidFile }));
    assert.equal(up.status, 'up', up.detail);
    assert.ok(up.value !== undefined && up.value > 0);
    const capped = await runOnce(buildCheck({ type: 'process', pidFile, maxRss: 1 }));
    assert.equal(capped.status, 'down');
    assert.match(capped.detail, /above 1 B$/);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const gone = await runOnce(buildCheck({ type: 'process', pidFile }));
    assert.deepEqual([gone.status, gone.detail], ['down', `process ${child.pid} is not running`]);
  });

  it('finds a process by command name, and says when there is none', async () => {
    const up = await runOnce(buildCheck({ type: 'process', processName: 'node' }));
    assert.equal(up.status, 'up', up.detail);
    const none = await runOnce(buildCheck({ type: 'process', processName: 'no-such-proc' }));
    assert.deepEqual([none.status, none.detail], ['down', 'no process named no-such-proc']);
  });

  it('is down for a missing or garbage pid file', async () => {
    const missing = await runOnce(buildCheck({ type: 'process', pidFile: join(dir, 'none.pid') }));
    assert.deepEqual([missing.status, missing.detail], ['down', 'cannot read pid file (ENOENT)']);
    const garbage = join(dir, 'garbage.pid');
    writeFileSync(garbage, 'not-a-pid');
    const bad = await runOnce(buildCheck({ type: 'process', pidFile: garbage }));
    assert.deepEqual([bad.status, bad.detail], ['down', 'pid file does not hold a process ID']);
    assert.equal(existsSync(garbage), true);
  });
});
