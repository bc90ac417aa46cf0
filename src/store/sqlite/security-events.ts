import type Database from 'better-sqlite3';
import type { SecurityEvent } from '../records.js';
import type { SecurityEventRepository } from '../store.js';
import { guarded } from './guarded.js';

type Row = Record<string, unknown>;

export class SqliteSecurityEvents implements SecurityEventRepository {
  private readonly insertStmt;
  private readonly recentStmt;
  private readonly recentTypeStmt;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO security_events (at, type, severity, source_ip, identity, correlation_id, details)
       VALUES (@at, @type, @severity, @sourceIp, @identity, @correlationId, @details)`,
    );
    this.recentStmt = db.prepare('SELECT * FROM security_events ORDER BY id DESC LIMIT ?');
    this.recentTypeStmt = db.prepare('SELECT * FROM security_events WHERE type = ? ORDER BY id DESC LIMIT ?');
  }

  append(event: SecurityEvent): Promise<void> {
    return guarded('security event write', () => {
      this.insertStmt.run({ ...event, details: JSON.stringify(event.details) });
    });
  }

  recent(limit: number, type?: string): Promise<SecurityEvent[]> {
    return guarded('security event read', () => {
      const rows = (type === undefined ? this.recentStmt.all(limit) : this.recentTypeStmt.all(type, limit)) as Row[];
      return rows.map((row) => ({
        at: row.at as number,
        type: row.type as string,
        severity: row.severity as SecurityEvent['severity'],
        sourceIp: (row.source_ip as string | null) ?? null,
        identity: (row.identity as string | null) ?? null,
        correlationId: (row.correlation_id as string | null) ?? null,
        details: JSON.parse(row.details as string) as Record<string, unknown>,
      }));
    });
  }
}
