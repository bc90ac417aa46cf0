import type Database from 'better-sqlite3';
import type { AlertAck, AlertEvent, AlertReceipt, DeliveryAttempt, Silence } from '../records.js';
import type { AlertLogRepository, HistoryQuery, SilenceRepository } from '../store.js';
import { guarded } from './guarded.js';

type Row = Record<string, unknown>;

export class SqliteAlertLog implements AlertLogRepository {
  private readonly appendStmt;
  private readonly eventsStmt;
  private readonly eventsOfStmt;
  private readonly receiptInsert;
  private readonly receiptsStmt;
  private readonly receiptsForStmt;
  private readonly ackInsert;
  private readonly acksStmt;
  private readonly attemptInsert;
  private readonly attemptsStmt;
  private readonly recentAttemptsStmt;
  private readonly addReceiptsTx;

  constructor(db: Database.Database) {
    this.appendStmt = db.prepare('INSERT INTO alert_events (alert_id, at, event, severity, detail) VALUES (@alertId, @at, @event, @severity, @detail)');
    this.eventsStmt = db.prepare('SELECT * FROM alert_events WHERE at >= ? AND at <= ? ORDER BY id DESC LIMIT ?');
    this.eventsOfStmt = db.prepare('SELECT * FROM alert_events WHERE alert_id = ? AND at >= ? AND at <= ? ORDER BY id DESC LIMIT ?');
    this.receiptInsert = db.prepare(
      `INSERT INTO alert_receipts (alert_id, episode, receiver, group_key, kind, notification_id, at)
       VALUES (@alertId, @episode, @receiver, @groupKey, @kind, @notificationId, @at)`,
    );
    this.receiptsStmt = db.prepare('SELECT * FROM alert_receipts WHERE alert_id = ? AND episode = ? ORDER BY rowid');
    this.receiptsForStmt = db.prepare('SELECT * FROM alert_receipts WHERE alert_id = ? ORDER BY rowid DESC LIMIT ?');
    this.ackInsert = db.prepare('INSERT INTO alert_acks (alert_id, episode, by, via, comment, at) VALUES (@alertId, @episode, @by, @via, @comment, @at)');
    this.acksStmt = db.prepare('SELECT * FROM alert_acks WHERE alert_id = ? AND episode = ? ORDER BY rowid');
    this.attemptInsert = db.prepare(
      'INSERT INTO delivery_attempts (notification_id, receiver, attempt, at, outcome, error) VALUES (@notificationId, @receiver, @attempt, @at, @outcome, @error)',
    );
    this.attemptsStmt = db.prepare('SELECT * FROM delivery_attempts WHERE notification_id = ? ORDER BY rowid');
    this.recentAttemptsStmt = db.prepare('SELECT * FROM delivery_attempts WHERE at >= ? AND at <= ? ORDER BY rowid DESC LIMIT ?');
    this.addReceiptsTx = db.transaction((receipts: readonly AlertReceipt[]) => {
      for (const r of receipts) this.receiptInsert.run(r);
    });
  }

  append(event: Omit<AlertEvent, 'id'>): Promise<void> {
    return guarded('alert history write', () => {
      this.appendStmt.run(event);
    });
  }

  events(q: HistoryQuery): Promise<AlertEvent[]> {
    return guarded('alert history read', () => {
      const rows = (q.alertId === undefined ? this.eventsStmt.all(q.from, q.to, q.limit) : this.eventsOfStmt.all(q.alertId, q.from, q.to, q.limit)) as Row[];
      return rows.map((row) => ({
        id: row.id as number,
        alertId: row.alert_id as string,
        at: row.at as number,
        event: row.event as string,
        severity: (row.severity as AlertEvent['severity']) ?? null,
        detail: row.detail as string,
      }));
    });
  }

  addReceipts(receipts: readonly AlertReceipt[]): Promise<void> {
    return guarded('alert receipt write', () => {
      this.addReceiptsTx(receipts);
    });
  }

  receipts(alertId: string, episode: number): Promise<AlertReceipt[]> {
    return guarded('alert receipt read', () => (this.receiptsStmt.all(alertId, episode) as Row[]).map(toReceipt));
  }

  receiptsFor(alertId: string, limit: number): Promise<AlertReceipt[]> {
    return guarded('alert receipt read', () => (this.receiptsForStmt.all(alertId, limit) as Row[]).map(toReceipt));
  }

  addAck(ack: AlertAck): Promise<void> {
    return guarded('alert acknowledgement write', () => {
      this.ackInsert.run(ack);
    });
  }

  acks(alertId: string, episode: number): Promise<AlertAck[]> {
    return guarded('alert acknowledgement read', () =>
      (this.acksStmt.all(alertId, episode) as Row[]).map((row) => ({
        alertId: row.alert_id as string,
        episode: row.episode as number,
        by: row.by as string,
        via: row.via as AlertAck['via'],
        comment: row.comment as string,
        at: row.at as number,
      })),
    );
  }

  recordAttempt(attempt: DeliveryAttempt): Promise<void> {
    return guarded('delivery attempt write', () => {
      this.attemptInsert.run(attempt);
    });
  }

  attempts(notificationId: number): Promise<DeliveryAttempt[]> {
    return guarded('delivery attempt read', () => (this.attemptsStmt.all(notificationId) as Row[]).map(toAttempt));
  }

  recentAttempts(from: number, to: number, limit: number): Promise<DeliveryAttempt[]> {
    return guarded('delivery attempt read', () => (this.recentAttemptsStmt.all(from, to, limit) as Row[]).map(toAttempt));
  }
}

function toReceipt(row: Row): AlertReceipt {
  return {
    alertId: row.alert_id as string,
    episode: row.episode as number,
    receiver: row.receiver as string,
    groupKey: row.group_key as string,
    kind: row.kind as AlertReceipt['kind'],
    notificationId: row.notification_id as number,
    at: row.at as number,
  };
}

function toAttempt(row: Row): DeliveryAttempt {
  return {
    notificationId: row.notification_id as number,
    receiver: row.receiver as string,
    attempt: row.attempt as number,
    at: row.at as number,
    outcome: row.outcome as DeliveryAttempt['outcome'],
    error: (row.error as string | null) ?? null,
  };
}

export class SqliteSilences implements SilenceRepository {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly listStmt;
  private readonly expireStmt;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO silences (id, matchers, starts_at, ends_at, author, comment, created_at, expired_at)
       VALUES (@id, @matchers, @startsAt, @endsAt, @author, @comment, @createdAt, @expiredAt)`,
    );
    this.getStmt = db.prepare('SELECT * FROM silences WHERE id = ?');
    this.listStmt = db.prepare('SELECT * FROM silences WHERE ends_at > ? ORDER BY created_at DESC, id');
    this.expireStmt = db.prepare('UPDATE silences SET ends_at = @at, expired_at = @at WHERE id = @id AND ends_at > @at');
  }

  insert(silence: Silence): Promise<void> {
    return guarded('silence write', () => {
      this.insertStmt.run({ ...silence, matchers: JSON.stringify(silence.matchers) });
    });
  }

  get(id: string): Promise<Silence | undefined> {
    return guarded('silence read', () => {
      const row = this.getStmt.get(id) as Row | undefined;
      return row && toSilence(row);
    });
  }

  list(since: number): Promise<Silence[]> {
    return guarded('silence read', () => (this.listStmt.all(since) as Row[]).map(toSilence));
  }

  expire(id: string, at: number): Promise<boolean> {
    return guarded('silence update', () => this.expireStmt.run({ id, at }).changes > 0);
  }
}

function toSilence(row: Row): Silence {
  return {
    id: row.id as string,
    matchers: JSON.parse(row.matchers as string) as string[],
    startsAt: row.starts_at as number,
    endsAt: row.ends_at as number,
    author: row.author as string,
    comment: row.comment as string,
    createdAt: row.created_at as number,
    expiredAt: (row.expired_at as number | null) ?? null,
  };
}
