import type { Clock } from '../../core/clock.js';

/**
 * Caps retries at a share of recent requests, so retries cannot multiply the load on upstreams
 * that are already failing (a retry storm). Counts in a sliding pair of windows.
 */
export class RetryBudget {
  private windowStart = 0;
  private requests = 0;
  private retries = 0;
  private previousRequests = 0;
  private previousRetries = 0;

  constructor(
    /** Retries allowed as a share of requests (0.2 = one retry per five requests). */
    private readonly ratio: number,
    /** Retries always allowed per window, so a quiet route can still retry. */
    private readonly minPerWindow: number,
    private readonly clock: Clock,
    private readonly windowMs = 10_000,
  ) {}

  onRequest(): void {
    this.roll(this.clock.now());
    this.requests++;
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  tryRetry(): boolean {
    this.roll(this.clock.now());
    const requests = this.requests + this.previousRequests;
    const retries = this.retries + this.previousRetries;
    if (retries >= Math.max(this.minPerWindow, this.ratio * requests)) return false;
    this.retries++;
    return true;
  }

  private roll(now: number): void {
    if (now - this.windowStart < this.windowMs) return;
    const skipped = now - this.windowStart >= 2 * this.windowMs;
    this.previousRequests = skipped ? 0 : this.requests;
    this.previousRetries = skipped ? 0 : this.retries;
    this.requests = 0;
    this.retries = 0;
    this.windowStart = now;
  }
}
