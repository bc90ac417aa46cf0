import { performance } from 'node:perf_hooks';
import type { Clock } from '../core/clock.js';
import type { CheckResult } from '../store/records.js';
import type { Check, CheckOutcome } from './check.js';
import { settledBy } from '../core/lifecycle.js';

export interface CheckSchedulerOptions {
  clock: Clock;
  /** Receives every result in the order the runs finish. Should not throw; if it does, `onError` hears of it. */
  onResult: (result: CheckResult) => Promise<void> | void;
  onError: (err: unknown, check: string) => void;
  /** A run was due while the previous run of the same check had not finished, so it was skipped. */
  onSkipped?: (check: string) => void;
  /** Upper bound of the random delay before a check's first run (also capped at a tenth of its interval). */
  maxJitterMs?: number;
  /** Most runs in flight at once across all checks; due runs beyond it queue in order. Default: unlimited. */
  maxConcurrent?: number;
  /** Failed runs of a check reported as `pending` before one is reported `down`. Default 0. */
  retriesOf?: (check: string) => number;
  random?: () => number;
}

interface Entry {
  readonly check: Check;
  timer: NodeJS.Timeout | undefined;
  /** performance.now() time of the next run; runs keep to a fixed grid instead of drifting. */
  nextRunAt: number;
  running: Promise<void> | undefined;
  /** Waiting for a free slot under `maxConcurrent`. */
  queued: boolean;
  /** Failed runs in a row; reset by an up run. */
  failures: number;
  readonly retries: number;
}

/**
 * Runs each check every `interval`. Runs of one check never overlap; a run that outlives its
 * `timeout` is aborted and reported down at the timeout, whether or not the check honours the abort.
 * Checks start after a small random delay so that many checks do not fire in the same instant.
 */
export class CheckScheduler {
  private readonly entries: Entry[] = [];
  private readonly shutdown = new AbortController();
  private started = false;
  /** Due runs waiting for a slot, oldest first. */
  private readonly waiting: Entry[] = [];
  private inFlight = 0;

  constructor(private readonly options: CheckSchedulerOptions) {}

  start(checks: readonly Check[]): void {
    if (this.started) throw new Error('CheckScheduler.start called twice');
    this.started = true;
    const random = this.options.random ?? Math.random;
    const maxJitter = this.options.maxJitterMs ?? 1000;
    for (const check of checks) {
      const jitter = random() * Math.min(maxJitter, check.intervalMs / 10);
      const retries = this.options.retriesOf?.(check.name) ?? 0;
      const entry: Entry = { check, timer: undefined, nextRunAt: performance.now() + jitter, running: undefined, queued: false, failures: 0, retries };
      this.entries.push(entry);
      this.arm(entry);
    }
  }

  /** Stops scheduling, aborts runs in flight and waits (until `deadline`) for them to end. No results after this. */
  async stop(deadline: number): Promise<void> {
    this.shutdown.abort();
    for (const entry of this.entries) clearTimeout(entry.timer);
    const running = this.entries.map((e) => e.running).filter((p): p is Promise<void> => p !== undefined);
    if (running.length > 0) await settledBy(Promise.all(running), deadline);
  }

  private arm(entry: Entry): void {
    if (this.shutdown.signal.aborted) return;
    entry.timer = setTimeout(() => this.due(entry), Math.max(0, entry.nextRunAt - performance.now()));
    // The servers keep the process alive; a pending check must not.
    entry.timer.unref();
  }

  private due(entry: Entry): void {
    entry.timer = undefined;
    if (this.shutdown.signal.aborted) return;
    if (entry.running || entry.queued) {
      this.options.onSkipped?.(entry.check.name);
    } else if (this.inFlight < (this.options.maxConcurrent ?? Infinity)) {
      this.launch(entry);
    } else {
      entry.queued = true;
      this.waiting.push(entry);
    }
    const now = performance.now();
    entry.nextRunAt += entry.check.intervalMs;
    // After a stall (a blocked event loop, a suspended laptop) skip the missed slots rather than burst.
    if (entry.nextRunAt < now) entry.nextRunAt = now + entry.check.intervalMs;
    this.arm(entry);
  }

  private launch(entry: Entry): void {
    this.inFlight++;
    entry.running = this.execute(entry, () => this.release()).finally(() => {
      entry.running = undefined;
    });
  }

  /** A run has its outcome (or hit its timeout): its slot goes to the oldest waiting run. */
  private release(): void {
    this.inFlight--;
    if (this.shutdown.signal.aborted) return;
    const next = this.waiting.shift();
    if (next === undefined) return;
    next.queued = false;
    this.launch(next);
  }

  private async execute(entry: Entry, release: () => void): Promise<void> {
    const { check } = entry;
    let released = false;
    const releaseOnce = (): void => {
      if (!released) {
        released = true;
        release();
      }
    };
    const at = this.options.clock.now();
    const controller = new AbortController();
    const cancel = (): void => controller.abort();
    this.shutdown.signal.addEventListener('abort', cancel, { once: true });
    const run = check.run(controller.signal).catch(
      (err: unknown): CheckOutcome => ({ status: 'down', latencyMs: 0, detail: `check failed (${err instanceof Error ? err.name : 'error'})` }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<CheckOutcome>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve({ status: 'down', latencyMs: check.timeoutMs, detail: `timed out after ${check.timeoutMs}ms` });
      }, check.timeoutMs);
    });
    try {
      const raw = await Promise.race([run, timedOut]);
      clearTimeout(timer);
      // The slot is free once the outcome is known: a check that ignores its abort keeps only its own slot.
      releaseOnce();
      const outcome = this.applyRetries(entry, raw);
      if (!this.shutdown.signal.aborted) {
        try {
          await this.options.onResult({ check: check.name, at, ...outcome });
        } catch (err) {
          this.options.onError(err, check.name);
        }
      }
      // A check that ignores its abort keeps its slot until it really ends: never two runs at once.
      await run;
    } finally {
      clearTimeout(timer);
      releaseOnce();
      this.shutdown.signal.removeEventListener('abort', cancel);
    }
  }

  /** Up resets the count; the first `retries` failures in a row are `pending`, the next is `down`. */
  private applyRetries(entry: Entry, outcome: CheckOutcome): CheckOutcome {
    if (outcome.status === 'up') {
      entry.failures = 0;
      return outcome;
    }
    entry.failures++;
    if (entry.failures > entry.retries) return outcome;
    return { ...outcome, status: 'pending', detail: `${outcome.detail} (failure ${entry.failures} of ${entry.retries + 1} before down)` };
  }
}
