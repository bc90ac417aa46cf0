import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../support/helpers.js';
import { openTestVault } from '../vault/support.js';

const FIXTURE = new URL('./fixtures/append-forever.ts', import.meta.url).pathname;

/** Starts an appender and resolves once it has committed at least `min` entries. */
async function appender(dataDir: string, min: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  while ((out.match(/committed/g)?.length ?? 0) < min) {
    assert.ok(child.exitCode === null && Date.now() < deadline, `appender did not start: ${err}`);
    await sleep(10);
  }
  const lastCommitted = () => Math.max(0, ...[...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1])));
  return { child, exited, lastCommitted };
}

describe('audit log under kill -9', () => {
  it('two concurrent appenders killed again and again: the chain verifies to the last committed entry', async () => {
    const dataDir = join(tempDir(), 'data');
    (await openTestVault({ dataDir })).store.close(); // create the data dir and master key once
    let committed = 0;
    for (let round = 0; round < 4; round++) {
      const runs = await Promise.all([appender(dataDir, 5), appender(dataDir, 5)]);
      await sleep(30 + round * 25);
      for (const run of runs) run.child.kill('SIGKILL');
      await Promise.all(runs.map((run) => run.exited));
      committed = Math.max(committed, ...runs.map((run) => run.lastCommitted()));
    }
    const v = await openTestVault({ dataDir });
    const report = await v.audit.verify();
    assert.equal(report.ok, true, report.problem?.message);
    assert.ok(report.lastSeq >= committed, `every entry reported committed is there (${report.lastSeq} >= ${committed})`);
    assert.equal(report.entries, report.lastSeq);
    assert.ok(report.checkpoints > 0);
  });
});
