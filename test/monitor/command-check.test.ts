import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/helpers.js';
import { buildCheck, runOnce } from './support.js';

const node = process.execPath;
const dir = tempDir();

describe('command check', () => {
  it('is up on the expected exit code and judges the output', async () => {
    const up = await runOnce(buildCheck({ type: 'command', command: node, args: ['-e', 'console.log("queue depth 4")'], conditions: ['[OUTPUT] matches "depth [0-9]+"', '[EXIT_CODE] == 0'] }));
    assert.deepEqual([up.status, up.detail], ['up', 'exit code 0']);
    const failed = await runOnce(buildCheck({ type: 'command', command: node, args: ['-e', 'process.exit(3)'] }));
    assert.deepEqual([failed.status, failed.detail], ['down', 'exit code 3, expected 0']);
    const expected3 = await runOnce(buildCheck({ type: 'command', command: node, args: ['-e', 'process.exit(3)'], expectExitCode: 3 }));
    assert.equal(expected3.status, 'up');
    const wrongOutput = await runOnce(buildCheck({ type: 'command', command: node, args: ['-e', 'console.log("secret=abc")'], conditions: ['[OUTPUT] contains "ready"'] }));
    assert.deepEqual([wrongOutput.status, wrongOutput.detail], ['down', '[OUTPUT] contains "ready" failed'], 'output is never quoted whole');
  });

  it('passes arguments without a shell, so nothing in them is expanded or executed', async () => {
    const marker = join(dir, 'pwned');
    const outcome = await runOnce(
      buildCheck({ type: 'command', command: node, args: ['-e', 'process.stdout.write(process.argv[1])', `$(touch ${marker}); echo $HOME`], conditions: [`[OUTPUT] == "$(touch ${marker}); echo $HOME"`] }),
    );
    assert.equal(outcome.status, 'up', outcome.detail);
    assert.equal(existsSync(marker), false);
  });

  it('runs through /bin/sh only when shell is on', async () => {
    const outcome = await runOnce(buildCheck({ type: 'command', shell: true, command: 'echo one && echo two', conditions: ['[OUTPUT] contains "two"'] }));
    assert.equal(outcome.status, 'up', outcome.detail);
  });

  it('kills a command that hangs at its timeout, child processes included', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const started = Date.now();
    const outcome = await runOnce(buildCheck({ type: 'command', shell: true, command: `sleep 30 & echo $! > ${pidFile}; wait`, timeout: 300 }));
    assert.deepEqual([outcome.status, outcome.detail], ['down', 'timed out after 300ms']);
    assert.ok(Date.now() - started < 2000);
    const { readFileSync } = await import('node:fs');
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    const gone = async (): Promise<boolean> => {
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return true;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return false;
    };
    assert.equal(await gone(), true, 'the grandchild was killed with its group');
  });

  it('keeps at most maxOutput bytes of a command that floods stdout', async () => {
    const before = process.memoryUsage().rss;
    // About 200 MiB of output: read and discarded, never held.
    const flood = "const b=Buffer.alloc(1<<20,97);let n=0;(function w(){while(n<200){n++;if(!process.stdout.write(b))return process.stdout.once('drain',w)}})()";
    const outcome = await runOnce(buildCheck({ type: 'command', command: node, args: ['-e', flood], maxOutput: 4096, timeout: 20_000, interval: 30_000, conditions: ['[OUTPUT] contains "aaaa"'] }));
    assert.equal(outcome.status, 'up', outcome.detail);
    assert.equal(outcome.detail, 'exit code 0 (output cut at 4096 bytes)');
    assert.ok(process.memoryUsage().rss - before < 100 * 1024 * 1024, 'memory did not grow with the output');
  });

  it('is down with a coded reason when the program does not exist', async () => {
    const outcome = await runOnce(buildCheck({ type: 'command', command: '/nonexistent/program' }));
    assert.deepEqual([outcome.status, outcome.detail], ['down', 'cannot run command (ENOENT)']);
  });

  it('stops the command when the run is cancelled', async () => {
    const controller = new AbortController();
    const pending = runOnce(buildCheck({ type: 'command', command: 'sleep', args: ['30'] }), controller.signal);
    setTimeout(() => controller.abort(), 50);
    const outcome = await pending;
    assert.deepEqual([outcome.status, outcome.detail], ['down', 'cancelled']);
  });
});
