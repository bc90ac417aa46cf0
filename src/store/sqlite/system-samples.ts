import type Database from 'better-sqlite3';
import type { SystemSample } from '../records.js';
import type { SystemSampleRepository } from '../store.js';
import { guarded } from './guarded.js';

/** System samples as JSON rows keyed by time: read back whole, never queried by field. */
export class SqliteSystemSamples implements SystemSampleRepository {
  private readonly insertStmt;
  private readonly rangeStmt;
  private readonly pruneStmt;

  constructor(db: Database.Database) {
    // A second sample in the same millisecond replaces the first rather than failing.
    this.insertStmt = db.prepare('INSERT OR REPLACE INTO system_samples (at, sample) VALUES (?, ?)');
    this.rangeStmt = db.prepare('SELECT sample FROM system_samples WHERE at >= ? AND at < ? ORDER BY at LIMIT ?').pluck();
    this.pruneStmt = db.prepare('DELETE FROM system_samples WHERE at < ?');
  }

  append(sample: SystemSample): Promise<void> {
    return guarded('system sample write', () => {
      this.insertStmt.run(sample.at, JSON.stringify(sample));
    });
  }

  range(from: number, to: number, limit: number): Promise<SystemSample[]> {
    return guarded('system sample read', () => (this.rangeStmt.all(from, to, limit) as string[]).map((text) => JSON.parse(text) as SystemSample));
  }

  prune(before: number): Promise<number> {
    return guarded('system sample prune', () => this.pruneStmt.run(before).changes);
  }
}
