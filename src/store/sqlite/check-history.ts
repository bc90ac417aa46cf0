import type Database from 'better-sqlite3';
import type { CheckResult } from '../records.js';
import type { CheckHistoryRepository, CheckRollup } from '../store.js';
import { guarded } from './guarded.js';

const HOUR = 3_600_000;
type Row = Record<string, unknown>;

/**
 * Check results over time: raw rows for recent history, hourly rollups (counts, latency
 * percentiles, value range) for months. Rollups are computed once per complete hour, tracked by a
 * watermark so a restart neither skips nor double-counts an hour.
 */
export class SqliteCheckHistory implements CheckHistoryRepository {
  private readonly resultsStmt;
  private readonly hourRowsStmt;
  private readonly upsertRollup;
  private readonly rollupsStmt;
  private readonly watermarkStmt;
  private readonly setWatermark;
  private readonly oldestStmt;
  private readonly pruneRaw;
  private readonly pruneRollups;
  private readonly rollUpTx;

  constructor(db: Database.Database) {
    this.resultsStmt = db.prepare('SELECT * FROM check_results WHERE check_name = ? AND at >= ? AND at < ? ORDER BY at, id LIMIT ?');
    this.hourRowsStmt = db.prepare('SELECT check_name, status, latency_ms, value FROM check_results WHERE at >= ? AND at < ? ORDER BY check_name, at, id');
    this.upsertRollup = db.prepare(
      `INSERT OR REPLACE INTO check_rollups (check_name, hour, runs, up, down, pending, latency_p50, latency_p95, latency_p99, latency_max, value_last, value_min, value_max)
       VALUES (@check, @hour, @runs, @up, @down, @pending, @latencyP50, @latencyP95, @latencyP99, @latencyMax, @valueLast, @valueMin, @valueMax)`,
    );
    this.rollupsStmt = db.prepare('SELECT * FROM check_rollups WHERE check_name = ? AND hour >= ? AND hour < ? ORDER BY hour');
    this.watermarkStmt = db.prepare('SELECT upto FROM check_rollup_watermark WHERE id = 1').pluck();
    this.setWatermark = db.prepare('INSERT INTO check_rollup_watermark (id, upto) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET upto = excluded.upto');
    this.oldestStmt = db.prepare('SELECT min(at) FROM check_results').pluck();
    this.pruneRaw = db.prepare('DELETE FROM check_results WHERE at < ?');
    this.pruneRollups = db.prepare('DELETE FROM check_rollups WHERE hour < ?');
    this.rollUpTx = db.transaction((before: number): number => {
      const end = Math.floor(before / HOUR) * HOUR;
      const oldest = this.oldestStmt.get() as number | null;
      let from = (this.watermarkStmt.get() as number | undefined) ?? (oldest === null ? end : Math.floor(oldest / HOUR) * HOUR);
      let written = 0;
      for (; from < end; from += HOUR) {
        for (const rollup of summarize(this.hourRowsStmt.all(from, from + HOUR) as Row[], from)) {
          this.upsertRollup.run(rollup);
          written++;
        }
      }
      this.setWatermark.run(Math.max(end, from));
      return written;
    });
  }

  results(check: string, from: number, to: number, limit: number): Promise<CheckResult[]> {
    return guarded('check history read', () => (this.resultsStmt.all(check, from, to, limit) as Row[]).map(toResult));
  }

  rollUp(before: number): Promise<number> {
    return guarded('check rollup', () => this.rollUpTx.immediate(before));
  }

  rollups(check: string, from: number, to: number): Promise<CheckRollup[]> {
    return guarded('check rollup read', () => (this.rollupsStmt.all(check, from, to) as Row[]).map(toRollup));
  }

  rolledUpTo(): Promise<number | undefined> {
    return guarded('check rollup read', () => (this.watermarkStmt.get() as number | undefined) ?? undefined);
  }

  prune(rawBefore: number, rollupBefore: number): Promise<{ raw: number; rollups: number }> {
    return guarded('check history prune', () => ({ raw: this.pruneRaw.run(rawBefore).changes, rollups: this.pruneRollups.run(rollupBefore).changes }));
  }
}

/** One rollup per check in the rows of one hour (rows ordered by check). */
function summarize(rows: Row[], hour: number): CheckRollup[] {
  const byCheck = new Map<string, Row[]>();
  for (const row of rows) {
    const name = row.check_name as string;
    let list = byCheck.get(name);
    if (list === undefined) byCheck.set(name, (list = []));
    list.push(row);
  }
  return [...byCheck].map(([check, list]) => {
    const latencies = list.map((r) => r.latency_ms as number).sort((a, b) => a - b);
    const values = list.map((r) => r.value as number | null).filter((v): v is number => v !== null);
    const count = (status: string) => list.filter((r) => r.status === status).length;
    return {
      check,
      hour,
      runs: list.length,
      up: count('up'),
      down: count('down'),
      pending: count('pending'),
      latencyP50: percentile(latencies, 0.5),
      latencyP95: percentile(latencies, 0.95),
      latencyP99: percentile(latencies, 0.99),
      latencyMax: latencies[latencies.length - 1] ?? 0,
      valueLast: values[values.length - 1] ?? null,
      valueMin: values.length === 0 ? null : Math.min(...values),
      valueMax: values.length === 0 ? null : Math.max(...values),
    };
  });
}

/** Nearest-rank percentile of sorted values (0 for none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

function toResult(row: Row): CheckResult {
  const value = row.value as number | null;
  return {
    check: row.check_name as string,
    at: row.at as number,
    status: row.status as CheckResult['status'],
    latencyMs: row.latency_ms as number,
    detail: row.detail as string,
    ...(value === null || value === undefined ? {} : { value }),
  };
}

function toRollup(row: Row): CheckRollup {
  return {
    check: row.check_name as string,
    hour: row.hour as number,
    runs: row.runs as number,
    up: row.up as number,
    down: row.down as number,
    pending: row.pending as number,
    latencyP50: row.latency_p50 as number,
    latencyP95: row.latency_p95 as number,
    latencyP99: row.latency_p99 as number,
    latencyMax: row.latency_max as number,
    valueLast: row.value_last as number | null,
    valueMin: row.value_min as number | null,
    valueMax: row.value_max as number | null,
  };
}
