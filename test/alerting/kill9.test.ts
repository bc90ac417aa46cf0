import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { startServer, tempDir, waitFor } from '../support/helpers.js';

const FIXTURE = new URL('./fixtures/deliver.ts', import.meta.url).pathname;

function deliverer(dataDir: string, url: string, mode?: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dataDir, url, ...(mode ? [mode] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, exited, output: () => out };
}

describe('delivery under kill -9', () => {
  it('a process killed with SIGKILL during delivery loses nothing: the next one redelivers the same notification', async () => {
    let answer = false;
    const seen: IncomingHttpHeaders[] = [];
    const { url } = await startServer((req, res) => {
      req.resume();
      seen.push(req.headers);
      // While `answer` is false the receiver hangs: the delivery is in flight when the kill comes.
      if (answer) req.on('end', () => res.end());
    });
    const dataDir = join(tempDir(), 'data');

    const first = deliverer(dataDir, url, 'emit');
    await waitFor(() => seen.length >= 1, `the first delivery attempt (${first.output()})`, 60_000);
    first.child.kill('SIGKILL');
    await first.exited;
    assert.equal(first.child.signalCode, 'SIGKILL');

    const store = openSqliteStore(dataDir);
    after(() => store.close());
    const [pending] = await store.outbox.due(Number.MAX_SAFE_INTEGER, 10);
    assert.equal(pending?.state, 'pending', 'the notification was in the outbox before the send and is still owed');

    answer = true;
    const second = deliverer(dataDir, url);
    await waitFor(async () => (await store.outbox.get(pending.id))?.state === 'delivered', `redelivery after the restart (${second.output()})`, 60_000);
    const ids = seen.map((h) => h['x-vigil-notification-id']);
    assert.ok(ids.every((id) => id === String(pending.id)), 'the same notification, so the receiver can drop a duplicate');
    assert.ok(seen.length >= 2, 'delivered at least once more after the kill (at-least-once)');
    await sleep(300);
    const receipts = await store.alertLog.receipts('api-down', (await store.alerts.get('api-down'))?.pendingSince ?? 0);
    assert.equal(receipts.length, 1, 'the restarted process did not make a second firing notice');
  });
});
