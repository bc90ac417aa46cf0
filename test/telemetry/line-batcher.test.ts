import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import pino from 'pino';
import { LineBatcher } from '../../src/telemetry/line-batcher.js';
import { LogCapture, tempDir } from '../support/helpers.js';

describe('log line batcher', () => {
  it('hands the lines of one event-loop turn over as one write, in order', async () => {
    const out = new LogCapture();
    const chunks: string[] = [];
    const target = { write: (chunk: string) => (chunks.push(chunk), out.write(chunk)) };
    const batcher = new LineBatcher(target);
    for (let i = 0; i < 100; i++) batcher.write(`{"n":${i}}\n`);
    assert.equal(chunks.length, 0, 'nothing is written before the turn ends');
    await nextTurn();
    assert.equal(chunks.length, 1);
    batcher.write('{"n":100}\n');
    await nextTurn();
    assert.equal(chunks.length, 2);
    assert.deepEqual(out.records().map((r) => r.n), Array.from({ length: 101 }, (_, i) => i));
    batcher.write('{"n":101}\n');
    batcher.drainSync(); // what the process 'exit' hook does: no waiting for the turn to end
    assert.equal(chunks.length, 3);
    assert.equal(out.records().at(-1)?.n, 101);
  });

  it("writes every line, in order, to pino's async file destination", async () => {
    const file = join(tempDir(), 'access.log');
    const boom = pino.destination({ dest: file, sync: false });
    await new Promise<void>((resolve) => boom.once('ready', () => resolve()));
    const logger = pino({ base: null, timestamp: false }, new LineBatcher(boom));
    for (let i = 0; i < 5000; i++) logger.info({ i }, 'request');
    await nextTurn();
    await new Promise<void>((resolve) => {
      boom.once('close', () => resolve());
      boom.end();
    });
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 5000);
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { i: number }).i), Array.from({ length: 5000 }, (_, i) => i));
  });
});
