import type { SystemSample } from './records.js';
import type { AlertAck, AlertEvent, AlertReceipt, DeliveryAttempt, Silence } from './records.js';
import type { AccessRecord, Alert, AlertActionRun, ApiKey, CheckResult, Notification, NotificationKind } from './records.js';
import type { Ban } from './records.js';
import type { LoginLock, MfaEnrolment, RefreshToken, SecurityEvent, SecurityEventQuery, Session, StoredSecurityEvent, User } from './records.js';

/**
 * The persistence boundary. Every method is async and speaks in records, never SQL, so that the
 * PostgreSQL implementation can stand in for SQLite without touching callers.
 */
export interface Store {
  readonly keys: KeyRepository;
  readonly access: AccessRepository;
  readonly checks: CheckResultRepository;
  readonly checkHistory: CheckHistoryRepository;
  readonly systemSamples: SystemSampleRepository;
  readonly alerts: AlertRepository;
  readonly outbox: OutboxRepository;
  readonly alertLog: AlertLogRepository;
  readonly silences: SilenceRepository;
  readonly alertActions: AlertActionRunRepository;
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly loginThrottle: LoginThrottleRepository;
  readonly securityEvents: SecurityEventRepository;
  readonly bans: BanRepository;
  readonly refreshTokens: RefreshTokenRepository;
  readonly mfa: MfaRepository;
  readonly secrets: SecretRepository;
  readonly audit: AuditRepository;
  /** Resolves when the store answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /**
   * Finishes the writes in flight and closes. With `deadline` (epoch ms), writes still unfinished then
   * are abandoned (rejected with VGL_STORE_FAILED) and close resolves: a stuck disk cannot hold shutdown.
   */
  close(deadline?: number): Promise<void>;
}

export interface KeyRepository {
  insert(key: ApiKey): Promise<void>;
  get(id: string): Promise<ApiKey | undefined>;
  list(): Promise<ApiKey[]>;
  /**
   * Revokes the key at `at` (now, or a future time for a rotation's grace period; the earlier of
   * an existing and a new time wins), noting its replacement; false when no such key exists.
   */
  revoke(id: string, at: number, replacedBy?: string): Promise<boolean>;
  /** Records last-used times and addresses in one batch; unknown IDs are ignored. */
  recordUsage(batch: readonly KeyUsage[]): Promise<void>;
  /** A number that grows with every change to the key table, polled to pick up changes from other processes. */
  revision(): Promise<number>;
}

export interface KeyUsage {
  id: string;
  at: number;
  ip: string;
}

export interface AccessRepository {
  appendMany(records: readonly AccessRecord[]): Promise<void>;
  /** Deletes up to `limit` of the oldest records with `at` before `before`; returns how many. */
  pruneBefore(before: number, limit: number): Promise<number>;
  recent(limit: number): Promise<AccessRecord[]>;
}

export interface CheckResultRepository {
  append(result: CheckResult): Promise<void>;
  recent(check: string, limit: number): Promise<CheckResult[]>;
}

/** One check's results in one hour, kept after the raw results are pruned. */
export interface CheckRollup {
  check: string;
  /** Start of the hour, ms since the epoch. */
  hour: number;
  runs: number;
  up: number;
  down: number;
  pending: number;
  latencyP50: number;
  latencyP95: number;
  latencyP99: number;
  latencyMax: number;
  valueLast: number | null;
  valueMin: number | null;
  valueMax: number | null;
}

export interface CheckHistoryRepository {
  /** Raw results of a check with `from <= at < to`, oldest first, at most `limit`. */
  results(check: string, from: number, to: number, limit: number): Promise<CheckResult[]>;
  /** Rolls every complete hour before `before` not yet rolled up into hourly rollups; returns rollups written. */
  rollUp(before: number): Promise<number>;
  /** Hourly rollups of a check with `from <= hour < to`, oldest first. */
  rollups(check: string, from: number, to: number): Promise<CheckRollup[]>;
  /** The end of the last hour rolled up (undefined before the first roll-up). */
  rolledUpTo(): Promise<number | undefined>;
  /** Deletes raw results before `rawBefore` and rollups of hours before `rollupBefore`. */
  prune(rawBefore: number, rollupBefore: number): Promise<{ raw: number; rollups: number }>;
}

export interface SystemSampleRepository {
  append(sample: SystemSample): Promise<void>;
  /** Samples with `from <= at < to`, oldest first, at most `limit`. */
  range(from: number, to: number, limit: number): Promise<SystemSample[]>;
  /** Deletes samples older than `before`; returns how many. */
  prune(before: number): Promise<number>;
}

export interface AlertRepository {
  upsert(alert: Alert): Promise<void>;
  /** Alerts not yet resolved, to restore evaluator state after a restart. */
  open(): Promise<Alert[]>;
  get(id: string): Promise<Alert | undefined>;
}

export interface AlertActionRunRepository {
  /** Records a started run; resolves to its ID. */
  start(run: Omit<AlertActionRun, 'id'>): Promise<number>;
  finish(id: number, outcome: AlertActionRun['outcome'], detail: string, at: number): Promise<void>;
  /** Runs (any outcome but `skipped`) of one action of one rule since `since`, for the runs-per-window cap. */
  countSince(rule: string, action: number, since: number): Promise<number>;
  /** Newest first. */
  recent(limit: number, alertId?: string): Promise<AlertActionRun[]>;
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
  get(id: number): Promise<Notification | undefined>;
}

export interface HistoryQuery {
  alertId?: string;
  from: number;
  to: number;
  limit: number;
}

/** The kept history of alerting: alert events, who got which alert, acknowledgements, delivery attempts. */
export interface AlertLogRepository {
  append(event: Omit<AlertEvent, 'id'>): Promise<void>;
  events(query: HistoryQuery): Promise<AlertEvent[]>;
  addReceipts(receipts: readonly AlertReceipt[]): Promise<void>;
  receipts(alertId: string, episode: number): Promise<AlertReceipt[]>;
  /** The newest receipts of an alert: the notifications it was part of. */
  receiptsFor(alertId: string, limit: number): Promise<AlertReceipt[]>;
  addAck(ack: AlertAck): Promise<void>;
  acks(alertId: string, episode: number): Promise<AlertAck[]>;
  recordAttempt(attempt: DeliveryAttempt): Promise<void>;
  attempts(notificationId: number): Promise<DeliveryAttempt[]>;
  recentAttempts(from: number, to: number, limit: number): Promise<DeliveryAttempt[]>;
}

export interface SilenceRepository {
  insert(silence: Silence): Promise<void>;
  get(id: string): Promise<Silence | undefined>;
  /** Silences whose end is after `since` (all with since = 0), newest first. */
  list(since: number): Promise<Silence[]>;
  /** Ends a silence at `at`; false when there is no such silence or it already ended. */
  expire(id: string, at: number): Promise<boolean>;
}

/** One encrypted secret version: the value sealed under a data key, the data key sealed under a master key. */
export interface SecretVersionRecord {
  name: string;
  version: number;
  ciphertext: Buffer;
  wrappedKey: Buffer;
  /** Fingerprint of the master key that wrapped `wrappedKey`. */
  masterKeyId: string;
  createdAt: number;
}

export interface SecretSummary {
  name: string;
  /** The newest version: the current value. */
  version: number;
  updatedAt: number;
}

export interface SecretRepository {
  /** Adds a version; false when that name and version already exist (a concurrent writer won). */
  insertVersion(record: SecretVersionRecord): Promise<boolean>;
  /** The newest version of `name`, or the given one. */
  get(name: string, version?: number): Promise<SecretVersionRecord | undefined>;
  versions(name: string): Promise<SecretVersionRecord[]>;
  list(): Promise<SecretSummary[]>;
  /** Removes every version of `name`; the number removed. */
  delete(name: string): Promise<number>;
  /** Versions whose data key is wrapped by a master key other than `masterKeyId`, at most `limit`. */
  wrappedByOther(masterKeyId: string, limit: number): Promise<SecretVersionRecord[]>;
  /** Master key IDs in use. */
  masterKeyIds(): Promise<string[]>;
  /** Replaces a wrapped data key if it is still wrapped by `fromKeyId` (compare-and-set); false otherwise. */
  rewrap(name: string, version: number, fromKeyId: string, wrappedKey: Buffer, toKeyId: string): Promise<boolean>;
}

/** An audit entry as stored: the event, its position in the chain and the hashes that link it. */
export interface AuditEntryRecord {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  sourceIp: string | null;
  result: string;
  /** Extra facts as a JSON string, hashed exactly as stored. */
  details: string;
  prevHash: string;
  hash: string;
}

export type NewAuditEntry = Omit<AuditEntryRecord, 'seq' | 'prevHash' | 'hash'>;

export interface AuditCheckpointRecord {
  seq: number;
  hash: string;
  at: number;
  signature: string;
}

export interface AuditRepository {
  /**
   * Appends atomically after the current last entry: `chain` gets the new entry's sequence number and
   * the previous hash and returns the new hash. Concurrent appenders (other processes too) are serialized.
   */
  append(entry: NewAuditEntry, chain: (seq: number, prevHash: string) => string): Promise<AuditEntryRecord>;
  /** Entries with seq > `afterSeq`, in sequence order, at most `limit`. */
  page(afterSeq: number, limit: number): Promise<AuditEntryRecord[]>;
  last(): Promise<AuditEntryRecord | undefined>;
  addCheckpoint(checkpoint: AuditCheckpointRecord): Promise<void>;
  checkpoints(): Promise<AuditCheckpointRecord[]>;
}

export interface UserRepository {
  /** Rejects with VGL_USER_EXISTS when the username is taken. */
  insert(user: User): Promise<void>;
  get(id: string): Promise<User | undefined>;
  byUsername(username: string): Promise<User | undefined>;
  list(): Promise<User[]>;
  /** Replaces the stored record with the same ID; false when there is none. */
  update(user: User): Promise<boolean>;
  count(): Promise<number>;
}

export interface SessionRepository {
  insert(session: Session): Promise<void>;
  get(tokenHash: string): Promise<Session | undefined>;
  touch(tokenHash: string, at: number): Promise<void>;
  revoke(tokenHash: string, at: number): Promise<void>;
  /** Revokes every live session of the user; resolves to how many were revoked. */
  revokeForUser(userId: string, at: number): Promise<number>;
  /** The user's sessions not revoked and not past their absolute end at `now`, newest first. */
  listForUser(userId: string, now: number): Promise<Session[]>;
  /** Deletes sessions that ended before `before`. */
  prune(before: number): Promise<void>;
}

/** Failed-login counting and locks, keyed by subject (`account:<name>`, `ip:<address>`, …). */
export interface LoginThrottleRepository {
  recordFailure(subject: string, at: number): Promise<void>;
  failuresSince(subject: string, since: number): Promise<number>;
  clearFailures(subject: string): Promise<void>;
  getLock(subject: string): Promise<LoginLock | undefined>;
  setLock(lock: LoginLock): Promise<void>;
  clearLock(subject: string): Promise<void>;
  /** Forgets failures older than `before`. */
  prune(before: number): Promise<void>;
}

export interface SecurityEventRepository {
  append(event: SecurityEvent): Promise<void>;
  /** Newest first; `type` narrows to one kind. */
  recent(limit: number, type?: string): Promise<SecurityEvent[]>;
  /** Newest first, filtered; page on with `before` = the last ID returned. */
  query(query: SecurityEventQuery): Promise<StoredSecurityEvent[]>;
}

export interface RefreshTokenRepository {
  insert(token: RefreshToken): Promise<void>;
  get(jti: string): Promise<RefreshToken | undefined>;
  /** Marks the token used; true only for the first use of an unrevoked token, so two racing uses cannot both win. */
  markUsed(jti: string, at: number): Promise<boolean>;
  /** Revokes every token of the family; resolves to how many were live. */
  revokeFamily(familyId: string, at: number): Promise<number>;
  revokeForUser(userId: string, at: number): Promise<number>;
}

export interface MfaRepository {
  get(userId: string): Promise<MfaEnrolment | undefined>;
  /** Starts (or restarts) an enrolment: the new secret replaces any earlier one and its recovery codes. */
  begin(enrolment: MfaEnrolment): Promise<void>;
  enable(userId: string, at: number, recoveryCodeHashes: readonly string[]): Promise<void>;
  /** Accepts a TOTP step only if it is later than the last one accepted; false for a replay. */
  advanceStep(userId: string, step: number): Promise<boolean>;
  /** Spends a recovery code; false when it is unknown or already used. */
  useRecoveryCode(userId: string, codeHash: string, at: number): Promise<boolean>;
  unusedRecoveryCodes(userId: string): Promise<number>;
  remove(userId: string): Promise<void>;
}

export interface BanRepository {
  /** Inserts or replaces the ban of `ban.target`. */
  put(ban: Ban): Promise<void>;
  get(target: string): Promise<Ban | undefined>;
  /** Bans in force at `now` (not expired, not removed). */
  active(now: number): Promise<Ban[]>;
  /** Ends a ban now; false when there is no active ban of that target. */
  remove(target: string, now: number): Promise<boolean>;
  /** Grows with every change, polled to pick up changes from other processes (the CLI). */
  revision(): Promise<number>;
}
