import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Clock } from '../core/clock.js';
import type { AccessRepository } from './store.js';

export interface AccessRetentionOptions {
  /** Records older than this (ms) are deleted; 0 keeps them forever. */
  readonly retentionMs: number;
  /** Rows per delete statement: small enough that one never holds the database for long. */
  readonly batch: number;
  /** Most batches per run, so one run stays short even after a long pause; the rest waits for the next run. */
  readonly maxBatches: number;
}

/**
 * Deletes access records past the retention in small batches, yielding to the event loop between
 * two, so requests and the batch writer are never held up by one large DELETE.
 */
export class AccessRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly repo: AccessRepository,
    private readonly clock: Clock,
    private readonly options: AccessRetentionOptions,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Runs now and then every `everyMs`; nothing when the retention is 0. */
  start(everyMs: number): void {
    if (this.options.retentionMs <= 0) return;
    void this.run();
    this.timer = setInterval(() => void this.run(), everyMs).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass: deletes what is older than the retention at the clock's now; returns how many. */
  run(): Promise<number> {
    this.running ??= this.prune().finally(() => (this.running = undefined));
    return this.running;
  }

  private async prune(): Promise<number> {
    if (this.options.retentionMs <= 0) return 0;
    const before = this.clock.now() - this.options.retentionMs;
    let total = 0;
    try {
      for (let i = 0; i < this.options.maxBatches; i++) {
        const deleted = await this.repo.pruneBefore(before, this.options.batch);
        total += deleted;
        if (deleted < this.options.batch) break;
        await yieldToLoop();
      }
    } catch (err) {
      this.onError(err);
    }
    return total;
  }
}
