import type Database from 'better-sqlite3';
import { SECURITY_SEVERITIES } from '../records.js';
import type { SecurityEvent, SecurityEventQuery, StoredSecurityEvent } from '../records.js';
import type { SecurityEventRepository } from '../store.js';
import { guarded } from './guarded.js';

type Row = Record<string, unknown>;

/** A stored severity's rank, in the order of SECURITY_SEVERITIES (low 0 … critical 3). */
const RANK = `CASE severity ${SECURITY_SEVERITIES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} END`;

function toEvent(row: Row): StoredSecurityEvent {
  return {
    id: row.id as number,
    at: row.at as number,
    type: row.type as string,
    severity: row.severity as SecurityEvent['severity'],
    sourceIp: (row.source_ip as string | null) ?? null,
    identity: (row.identity as string | null) ?? null,
    correlationId: (row.correlation_id as string | null) ?? null,
    route: (row.route as string | null) ?? null,
    details: JSON.parse(row.details as string) as Record<string, unknown>,
  };
}

export class SqliteSecurityEvents implements SecurityEventRepository {
  private readonly insertStmt;
  private readonly recentStmt;
  private readonly recentTypeStmt;
  /** Every filter present, a null parameter turning it off: one prepared statement for all queries. */
  private readonly queryStmt;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO security_events (at, type, severity, source_ip, identity, correlation_id, route, details)
       VALUES (@at, @type, @severity, @sourceIp, @identity, @correlationId, @route, @details)`,
    );
    this.recentStmt = db.prepare('SELECT * FROM security_events ORDER BY id DESC LIMIT ?');
    this.recentTypeStmt = db.prepare('SELECT * FROM security_events WHERE type = ? ORDER BY id DESC LIMIT ?');
    this.queryStmt = db.prepare(
      `SELECT * FROM security_events
       WHERE (@type IS NULL OR type = @type) AND (@severity IS NULL OR severity = @severity)
         AND (@minRank IS NULL OR ${RANK} >= @minRank)
         AND (@sourceIp IS NULL OR source_ip = @sourceIp) AND (@route IS NULL OR route = @route)
         AND (@since IS NULL OR at >= @since) AND (@until IS NULL OR at < @until)
         AND (@before IS NULL OR id < @before)
       ORDER BY id DESC LIMIT @limit`,
    );
  }

  append(event: SecurityEvent): Promise<void> {
    return guarded('security event write', () => {
      this.insertStmt.run({ ...event, route: event.route ?? null, details: JSON.stringify(event.details) });
    });
  }

  recent(limit: number, type?: string): Promise<SecurityEvent[]> {
    return guarded('security event read', () => {
      const rows = (type === undefined ? this.recentStmt.all(limit) : this.recentTypeStmt.all(type, limit)) as Row[];
      return rows.map(toEvent);
    });
  }

  query(query: SecurityEventQuery): Promise<StoredSecurityEvent[]> {
    return guarded('security event read', () => {
      const rows = this.queryStmt.all({
        type: query.type ?? null,
        severity: query.severity ?? null,
        minRank: query.minSeverity === undefined ? null : SECURITY_SEVERITIES.indexOf(query.minSeverity),
        sourceIp: query.sourceIp ?? null,
        route: query.route ?? null,
        since: query.since ?? null,
        until: query.until ?? null,
        before: query.before ?? null,
        limit: query.limit,
      }) as Row[];
      return rows.map(toEvent);
    });
  }
}
