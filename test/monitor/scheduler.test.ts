import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import type { Clock } from '../../src/core/clock.js';
import { CheckScheduler } from '../../src/monitor/index.js';
import type { Check, CheckOutcome } from '../../src/monitor/index.js';
import type { CheckResult } from '../../src/store/records.js';
import { waitFor } from '../support/helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function fakeCheck(name: string, run: (signal: AbortSignal) => Promise<CheckOutcome>, intervalMs = 50, timeoutMs = 40): Check {
  return { name, type: 'http', intervalMs, timeoutMs, readiness: false, run };
}

function scheduler(results: CheckResult[], extra: { onSkipped?: (check: string) => void; random?: () => number; maxJitterMs?: number; clock?: Clock } = {}): CheckScheduler {
  return new CheckScheduler({
    clock: systemClock,
    onResult: (result) => {
      results.push(result);
    },
    onError: (err) => {
      throw err;
    },
    maxJitterMs: 0,
    ...extra,
  });
}

const up = async (): Promise<CheckOutcome> => ({ status: 'up', latencyMs: 1, detail: 'status 200' });

describe('check scheduler', () => {
  it('runs every check on its own interval', async () => {
    const results: CheckResult[] = [];
    const s = scheduler(results);
    s.start([fakeCheck('fast', up, 30), fakeCheck('slow', up, 120, 100)]);
    // Wait for a state, not a fixed time: a loaded CI machine delays timers (a late slot is skipped, never doubled).
    await waitFor(() => results.filter((r) => r.check === 'fast').length >= 6, 'six fast runs');
    await s.stop(Date.now() + 1000);
    const fast = results.filter((r) => r.check === 'fast').length;
    const slow = results.filter((r) => r.check === 'slow').length;
    assert.ok(slow >= 1 && slow < fast, `slow ran ${slow} times, fast ${fast} times`);
  });

  it('never overlaps two runs of one check, even when the check ignores its abort', async () => {
    const results: CheckResult[] = [];
    const skipped: string[] = [];
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const s = scheduler(results, { onSkipped: (check) => skipped.push(check) });
    s.start([
      fakeCheck('stubborn', async () => {
        runs++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(130); // ignores the signal on purpose
        running--;
        return { status: 'up', latencyMs: 130, detail: 'late' };
      }),
    ]);
    // Wait for a state, not a fixed time: a loaded machine fires timers late. Each run outlives the next 50 ms slots.
    await waitFor(() => runs >= 2 && skipped.length >= 3 && results.length >= 2, 'two runs and three skipped slots');
    await s.stop(Date.now() + 1000);
    assert.equal(maxRunning, 1);
    for (const result of results) assert.equal(result.detail, 'timed out after 40ms', 'the late outcome is never reported');
  });

  it('aborts a hung run at its timeout and reports it down then', async () => {
    const results: CheckResult[] = [];
    let aborted: number | undefined;
    const started = Date.now();
    // The results' time: it moves on once the run has started, so the stamp shows which moment it took.
    let clockAt = 1_000_000;
    const s = scheduler(results, { clock: { now: () => clockAt } });
    s.start([
      fakeCheck(
        'hung',
        (signal) =>
          new Promise<CheckOutcome>((resolve) => {
            clockAt += 60;
            signal.addEventListener('abort', () => {
              aborted = Date.now() - started;
              resolve({ status: 'down', latencyMs: 0, detail: 'aborted' });
            });
          }),
        1000,
        60,
      ),
    ]);
    const result = await waitFor(() => results[0], 'the first result');
    // Aborted by the timeout itself (before the result), not later by stop(). A lower bound: load only delays the timeout.
    const abortedAtTimeout = aborted;
    await s.stop(Date.now() + 1000);
    assert.deepEqual({ status: result.status, latencyMs: result.latencyMs, detail: result.detail }, { status: 'down', latencyMs: 60, detail: 'timed out after 60ms' });
    assert.ok(abortedAtTimeout !== undefined && abortedAtTimeout >= 55, `aborted after ${abortedAtTimeout}ms`);
    assert.equal(result.at, 1_000_000, 'the result is stamped with the start of the run');
  });

  it('reports a check that throws as down and keeps scheduling it', async () => {
    const results: CheckResult[] = [];
    const s = scheduler(results);
    s.start([fakeCheck('broken', () => Promise.reject(new TypeError('bug')), 30, 20)]);
    await waitFor(() => results.length >= 2, 'two results');
    await s.stop(Date.now() + 1000);
    assert.equal(results[0]?.detail, 'check failed (TypeError)');
  });

  it('delays the first run by the jitter, and stop aborts runs in flight and reports nothing more', async () => {
    const results: CheckResult[] = [];
    let started: number | undefined;
    let sawAbort = false;
    const begin = Date.now();
    const s = scheduler(results, { random: () => 1, maxJitterMs: 80 });
    s.start([
      fakeCheck(
        'slow',
        (signal) =>
          new Promise<CheckOutcome>((resolve) => {
            started = Date.now() - begin;
            signal.addEventListener('abort', () => {
              sawAbort = true;
              resolve({ status: 'down', latencyMs: 0, detail: 'cancelled' });
            });
          }),
        1000,
        900,
      ),
    ]);
    await waitFor(() => started !== undefined, 'the first run');
    // A lower bound: load only delays the first run. Without the jitter it comes within a few ms.
    assert.ok(started !== undefined && started >= 75, `first run after ${started}ms`);
    await s.stop(Date.now() + 1000);
    assert.equal(sawAbort, true);
    await sleep(20);
    assert.equal(results.length, 0);
  });
});
