import type Database from 'better-sqlite3';
import type { Ban } from '../records.js';
import type { BanRepository } from '../store.js';
import { guarded } from './guarded.js';

type Row = Record<string, unknown>;

function toBan(row: Row): Ban {
  return {
    target: row.target as string,
    kind: row.kind as Ban['kind'],
    reason: row.reason as string,
    source: row.source as string,
    createdAt: row.created_at as number,
    expiresAt: row.expires_at as number,
    offences: row.offences as number,
    removedAt: (row.removed_at as number | null) ?? null,
  };
}

export class SqliteBans implements BanRepository {
  private readonly putStmt;
  private readonly getStmt;
  private readonly activeStmt;
  private readonly removeStmt;
  private readonly revisionStmt;

  constructor(db: Database.Database) {
    const next = '(SELECT COALESCE(MAX(revision), 0) + 1 FROM bans)';
    this.putStmt = db.prepare(
      `INSERT INTO bans (target, kind, reason, source, created_at, expires_at, offences, removed_at, revision)
       VALUES (@target, @kind, @reason, @source, @createdAt, @expiresAt, @offences, @removedAt, ${next})
       ON CONFLICT (target) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, source = excluded.source,
         created_at = excluded.created_at, expires_at = excluded.expires_at, offences = excluded.offences,
         removed_at = excluded.removed_at, revision = excluded.revision`,
    );
    this.getStmt = db.prepare('SELECT * FROM bans WHERE target = ?');
    this.activeStmt = db.prepare('SELECT * FROM bans WHERE removed_at IS NULL AND expires_at > ? ORDER BY created_at');
    this.removeStmt = db.prepare(`UPDATE bans SET removed_at = @now, revision = ${next} WHERE target = @target AND removed_at IS NULL AND expires_at > @now`);
    this.revisionStmt = db.prepare('SELECT COALESCE(MAX(revision), 0) AS revision FROM bans');
  }

  put(ban: Ban): Promise<void> {
    return guarded('ban write', () => {
      this.putStmt.run(ban);
    });
  }

  get(target: string): Promise<Ban | undefined> {
    return guarded('ban read', () => {
      const row = this.getStmt.get(target) as Row | undefined;
      return row ? toBan(row) : undefined;
    });
  }

  active(now: number): Promise<Ban[]> {
    return guarded('ban read', () => (this.activeStmt.all(now) as Row[]).map(toBan));
  }

  remove(target: string, now: number): Promise<boolean> {
    return guarded('ban write', () => this.removeStmt.run({ target, now }).changes > 0);
  }

  revision(): Promise<number> {
    return guarded('ban read', () => (this.revisionStmt.get() as { revision: number }).revision);
  }
}
