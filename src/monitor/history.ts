import type { CheckResult } from '../store/records.js';
import type { CheckHistoryRepository } from '../store/store.js';
import { percentile } from '../store/sqlite/check-history.js';

export const UPTIME_WINDOWS = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
export type UptimeWindow = keyof typeof UPTIME_WINDOWS;

/** An hour is rolled up this long after it ends, so that runs started in it and stored late are counted. */
const ROLLUP_DELAY_MS = 15 * 60_000;

/** Most raw rows read to answer one uptime or latency question; beyond it the answer is from the newest rows. */
const RAW_LIMIT = 500_000;

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  runs: number;
}

/**
 * Questions about a check's past: uptime over a window (hourly rollups for complete hours, raw
 * results for the rest) and latency percentiles over the last 24 hours. Pending runs count neither
 * way: a check is only down once its retries are used up.
 */
export class MonitorHistory {
  constructor(private readonly repo: CheckHistoryRepository) {}

  /** Rolls up finished hours and drops what is older than the retention. */
  async maintain(now: number, rawRetentionMs: number, rollupRetentionMs: number): Promise<{ rollups: number; prunedRaw: number; prunedRollups: number }> {
    const rollups = await this.repo.rollUp(now - ROLLUP_DELAY_MS);
    // Raw rows are dropped only once they are rolled up, whatever the retention says.
    const rolledUpTo = (await this.repo.rolledUpTo()) ?? 0;
    const pruned = await this.repo.prune(Math.min(now - rawRetentionMs, rolledUpTo), now - rollupRetentionMs);
    return { rollups, prunedRaw: pruned.raw, prunedRollups: pruned.rollups };
  }

  /** Percentage of up among up+down runs in the window, or null when there were none. */
  async uptime(check: string, now: number, windowMs: number): Promise<number | null> {
    const from = now - windowMs;
    const rolledUpTo = (await this.repo.rolledUpTo()) ?? from;
    let up = 0;
    let judged = 0;
    if (rolledUpTo > from) {
      for (const r of await this.repo.rollups(check, from, rolledUpTo)) {
        up += r.up;
        judged += r.up + r.down;
      }
    }
    for (const r of await this.repo.results(check, Math.max(from, rolledUpTo), now + 1, RAW_LIMIT)) {
      if (r.status === 'pending') continue;
      judged++;
      if (r.status === 'up') up++;
    }
    return judged === 0 ? null : Math.round((up / judged) * 100_000) / 1000;
  }

  async uptimes(check: string, now: number): Promise<Record<UptimeWindow, number | null>> {
    const out = {} as Record<UptimeWindow, number | null>;
    for (const [name, ms] of Object.entries(UPTIME_WINDOWS) as [UptimeWindow, number][]) out[name] = await this.uptime(check, now, ms);
    return out;
  }

  /** Latency percentiles (ms) of the runs of the last 24 hours that reached their target or timed out. */
  async latency24h(check: string, now: number): Promise<LatencySummary> {
    const results = await this.repo.results(check, now - UPTIME_WINDOWS['24h'], now + 1, RAW_LIMIT);
    const sorted = results.map((r) => r.latencyMs).sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return { p50: round(percentile(sorted, 0.5)), p95: round(percentile(sorted, 0.95)), p99: round(percentile(sorted, 0.99)), runs: sorted.length };
  }

  results(check: string, from: number, to: number, limit: number): Promise<CheckResult[]> {
    return this.repo.results(check, from, to, limit);
  }

  rollups(check: string, from: number, to: number) {
    return this.repo.rollups(check, from, to);
  }
}
