import type { AccessRecord, Alert, ApiKey, CheckResult, Notification, NotificationKind } from './records.js';

/**
 * The persistence boundary. Every method is async and speaks in records, never SQL, so that the
 * PostgreSQL implementation can stand in for SQLite without touching callers.
 */
export interface Store {
  readonly keys: KeyRepository;
  readonly access: AccessRepository;
  readonly checks: CheckResultRepository;
  readonly alerts: AlertRepository;
  readonly outbox: OutboxRepository;
  /** Resolves when the store answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface KeyRepository {
  insert(key: ApiKey): Promise<void>;
  get(id: string): Promise<ApiKey | undefined>;
  list(): Promise<ApiKey[]>;
  /** Marks the key revoked; false when no such key exists. Idempotent for revoked keys. */
  revoke(id: string, at: number): Promise<boolean>;
  /** A number that grows with every change to the key table, polled to pick up changes from other processes. */
  revision(): Promise<number>;
}

export interface AccessRepository {
  appendMany(records: readonly AccessRecord[]): Promise<void>;
  recent(limit: number): Promise<AccessRecord[]>;
}

export interface CheckResultRepository {
  append(result: CheckResult): Promise<void>;
  recent(check: string, limit: number): Promise<CheckResult[]>;
}

export interface AlertRepository {
  upsert(alert: Alert): Promise<void>;
  /** Alerts not yet resolved, to restore evaluator state after a restart. */
  open(): Promise<Alert[]>;
  get(id: string): Promise<Alert | undefined>;
}

export interface NewNotification {
  alertId: string;
  receiver: string;
  kind: NotificationKind;
  payload: string;
  createdAt: number;
}

export interface OutboxRepository {
  enqueue(notification: NewNotification): Promise<number>;
  /** Pending notifications whose next attempt is due, oldest first. */
  due(now: number, limit: number): Promise<Notification[]>;
  markDelivered(id: number, at: number): Promise<void>;
  markFailed(id: number, error: string, nextAttemptAt: number): Promise<void>;
  markExpired(id: number, error: string): Promise<void>;
  list(alertId: string): Promise<Notification[]>;
}
