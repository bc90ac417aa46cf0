import type Database from 'better-sqlite3';
import type { Alert, AlertActionRun } from '../records.js';
import type { AlertActionRunRepository, AlertRepository } from '../store.js';
import { guarded } from './guarded.js';

type Row = Record<string, unknown>;

/** One row per alert (rule and subject), updated on every change; the rule engine restores open ones at start. */
export class SqliteAlerts implements AlertRepository {
  private readonly upsertStmt;
  private readonly openStmt;
  private readonly getStmt;

  constructor(db: Database.Database) {
    this.upsertStmt = db.prepare(
      `INSERT INTO alerts (id, rule, severity, state, labels, summary, pending_since, fired_at, resolved_at, updated_at,
         annotations, value, previous_state, previous_severity, cleared_at)
       VALUES (@id, @rule, @severity, @state, @labels, @summary, @pendingSince, @firedAt, @resolvedAt, @updatedAt,
         @annotations, @value, @previousState, @previousSeverity, @clearedAt)
       ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, state = excluded.state, labels = excluded.labels,
         summary = excluded.summary, pending_since = excluded.pending_since, fired_at = excluded.fired_at,
         resolved_at = excluded.resolved_at, updated_at = excluded.updated_at, annotations = excluded.annotations,
         value = excluded.value, previous_state = excluded.previous_state, previous_severity = excluded.previous_severity,
         cleared_at = excluded.cleared_at`,
    );
    this.openStmt = db.prepare("SELECT * FROM alerts WHERE state != 'resolved' ORDER BY pending_since");
    this.getStmt = db.prepare('SELECT * FROM alerts WHERE id = ?');
  }

  upsert(alert: Alert): Promise<void> {
    return guarded('alert write', () => {
      this.upsertStmt.run({
        ...alert,
        labels: JSON.stringify(alert.labels),
        annotations: JSON.stringify(alert.annotations ?? {}),
        value: alert.value ?? null,
        previousState: alert.previousState ?? null,
        previousSeverity: alert.previousSeverity ?? null,
        clearedAt: alert.clearedAt ?? null,
      });
    });
  }

  open(): Promise<Alert[]> {
    return guarded('alert read', () => (this.openStmt.all() as Row[]).map(toAlert));
  }

  get(id: string): Promise<Alert | undefined> {
    return guarded('alert read', () => {
      const row = this.getStmt.get(id) as Row | undefined;
      return row && toAlert(row);
    });
  }
}

function toAlert(row: Row): Alert {
  return {
    id: row.id as string,
    rule: row.rule as string,
    severity: row.severity as Alert['severity'],
    state: row.state as Alert['state'],
    labels: JSON.parse(row.labels as string) as Record<string, string>,
    summary: row.summary as string,
    pendingSince: row.pending_since as number,
    firedAt: (row.fired_at as number | null) ?? null,
    resolvedAt: (row.resolved_at as number | null) ?? null,
    updatedAt: row.updated_at as number,
    annotations: JSON.parse(row.annotations as string) as Record<string, string>,
    value: (row.value as number | null) ?? null,
    previousState: (row.previous_state as Alert['state'] | null) ?? null,
    previousSeverity: (row.previous_severity as Alert['severity'] | null) ?? null,
    clearedAt: (row.cleared_at as number | null) ?? null,
  };
}

/** Action runs: started, finished, skipped by the runs-per-window cap. */
export class SqliteAlertActions implements AlertActionRunRepository {
  private readonly insertStmt;
  private readonly finishStmt;
  private readonly countStmt;
  private readonly recentStmt;
  private readonly recentForAlertStmt;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO alert_action_runs (alert_id, rule, action, type, started_at, finished_at, outcome, detail)
       VALUES (@alertId, @rule, @action, @type, @startedAt, @finishedAt, @outcome, @detail)`,
    );
    this.finishStmt = db.prepare('UPDATE alert_action_runs SET outcome = ?, detail = ?, finished_at = ? WHERE id = ?');
    this.countStmt = db.prepare("SELECT COUNT(*) AS n FROM alert_action_runs WHERE rule = ? AND action = ? AND started_at >= ? AND outcome != 'skipped'");
    this.recentStmt = db.prepare('SELECT * FROM alert_action_runs ORDER BY id DESC LIMIT ?');
    this.recentForAlertStmt = db.prepare('SELECT * FROM alert_action_runs WHERE alert_id = ? ORDER BY id DESC LIMIT ?');
  }

  start(run: Omit<AlertActionRun, 'id'>): Promise<number> {
    return guarded('action run write', () => Number(this.insertStmt.run(run).lastInsertRowid));
  }

  finish(id: number, outcome: AlertActionRun['outcome'], detail: string, at: number): Promise<void> {
    return guarded('action run write', () => {
      this.finishStmt.run(outcome, detail, at, id);
    });
  }

  countSince(rule: string, action: number, since: number): Promise<number> {
    return guarded('action run read', () => (this.countStmt.get(rule, action, since) as { n: number }).n);
  }

  recent(limit: number, alertId?: string): Promise<AlertActionRun[]> {
    return guarded('action run read', () => {
      const rows = (alertId === undefined ? this.recentStmt.all(limit) : this.recentForAlertStmt.all(alertId, limit)) as Row[];
      return rows.map((row) => ({
        id: row.id as number,
        alertId: row.alert_id as string,
        rule: row.rule as string,
        action: row.action as number,
        type: row.type as AlertActionRun['type'],
        startedAt: row.started_at as number,
        finishedAt: (row.finished_at as number | null) ?? null,
        outcome: row.outcome as AlertActionRun['outcome'],
        detail: row.detail as string,
      }));
    });
  }
}
