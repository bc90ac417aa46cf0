import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { LINE_BATCH_BYTES, LINE_BATCH_MS, LineBatcher } from '../../src/telemetry/line-batcher.js';
import { LogCapture, tempDir } from '../support/helpers.js';

describe('log line batcher', () => {
  it('hands lines over as one write per interval, at once past the byte threshold, in order', async () => {
    const out = new LogCapture();
    const chunks: string[] = [];
    const target = { write: (chunk: string) => (chunks.push(chunk), out.write(chunk)) };
    const batcher = new LineBatcher(target);
    for (let i = 0; i < 100; i++) batcher.write(`{"n":${i}}\n`);
    await sleep(1);
    assert.equal(chunks.length, 0, 'nothing is written before the interval ends');
    await sleep(LINE_BATCH_MS + 20);
    assert.equal(chunks.length, 1);
    batcher.write('{"n":100}\n');
    await sleep(LINE_BATCH_MS + 20);
    assert.equal(chunks.length, 2);
    assert.deepEqual(out.records().map((r) => r.n), Array.from({ length: 101 }, (_, i) => i));
    // A burst larger than the threshold goes out without waiting for the timer.
    const big = `{"n":-1,"pad":"${'x'.repeat(1000)}"}\n`;
    for (let i = 0; i < Math.ceil(LINE_BATCH_BYTES / big.length); i++) batcher.write(big);
    assert.equal(chunks.length, 3);
    batcher.write('{"n":101}\n');
    batcher.drainSync(); // what the process 'exit' hook does: no waiting for the interval to end
    assert.equal(chunks.length, 4);
    assert.equal(out.records().at(-1)?.n, 101);
  });

  it("writes every line, in order, to pino's async file destination", async () => {
    const file = join(tempDir(), 'access.log');
    const boom = pino.destination({ dest: file, sync: false });
    await new Promise<void>((resolve) => boom.once('ready', () => resolve()));
    const logger = pino({ base: null, timestamp: false }, new LineBatcher(boom));
    for (let i = 0; i < 5000; i++) logger.info({ i }, 'request');
    await sleep(LINE_BATCH_MS + 20);
    await new Promise<void>((resolve) => {
      boom.once('close', () => resolve());
      boom.end();
    });
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 5000);
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { i: number }).i), Array.from({ length: 5000 }, (_, i) => i));
  });
});
