import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { VigilError } from '../../core/errors.js';
import { ensureDataDir, ensurePrivateFile } from '../data-dir.js';
import type { AccessRecord, CheckResult, Notification } from '../records.js';
import type {
  AccessRepository,
  AlertActionRunRepository,
  AlertRepository,
  CheckResultRepository,
  KeyRepository,
  NewNotification,
  OutboxRepository,
  SecretRepository,
  AuditRepository,
  Store,
} from '../store.js';
import type { LoginThrottleRepository, MfaRepository, RefreshTokenRepository, SecurityEventRepository, SessionRepository, UserRepository } from '../store.js';
import { SqliteCheckHistory } from './check-history.js';
import { SqliteSystemSamples } from './system-samples.js';
import { guarded } from './guarded.js';
import { AccessWriter } from './access-writer.js';
import type { AccessWriterEvents } from './access-writer.js';
import { openConnection } from './connection.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteLoginThrottle, SqliteSessions, SqliteUsers } from './identity.js';
import { SqliteSecurityEvents } from './security-events.js';
import { SqliteBans } from './bans.js';
import type { BanRepository } from '../store.js';
import { SqliteKeys } from './keys.js';
import { SqliteRefreshTokens } from './refresh-tokens.js';
import { SqliteMfa } from './mfa.js';
import { SqliteAudit } from './audit.js';
import { SqliteSecrets } from './secrets.js';
import { SqliteAlertLog, SqliteSilences } from './alerting.js';
import { SqliteAlertActions, SqliteAlerts } from './alerts.js';

export const DB_FILE = 'vigil.db';

type Row = Record<string, unknown>;

/**
 * Opens (creating if needed) the SQLite store in `dataDir`, enforcing 0700/0600 and migrating.
 * `events` hears of the access record writer thread's restarts and of records abandoned at close.
 */
export function openSqliteStore(dataDir: string, events: AccessWriterEvents = {}): SqliteStore {
  const dir = ensureDataDir(dataDir);
  const file = join(dir, DB_FILE);
  ensurePrivateFile(file);
  const db = openConnection(file);
  migrate(db);
  // Started once the schema is current: the writer thread prepares its statements against it.
  return new SqliteStore(db, new AccessWriter(file, events));
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    db.close();
    throw new VigilError('VGL_STORE_MIGRATION', `database schema version ${current} is newer than this Vigil (${MIGRATIONS.length})`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    try {
      db.transaction(() => {
        db.exec(MIGRATIONS[version] as string);
        db.pragma(`user_version = ${version + 1}`);
      }).immediate();
    } catch (err) {
      db.close();
      throw new VigilError('VGL_STORE_MIGRATION', `migration to schema version ${version + 1} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}

export class SqliteStore implements Store {
  readonly keys: KeyRepository;
  readonly access: AccessRepository;
  readonly checks: CheckResultRepository;
  readonly checkHistory: SqliteCheckHistory;
  readonly systemSamples: SqliteSystemSamples;
  readonly alerts: AlertRepository;
  readonly outbox: OutboxRepository;
  readonly alertLog: SqliteAlertLog;
  readonly silences: SqliteSilences;
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

  constructor(
    private readonly db: Database.Database,
    /** Where access records are written: a worker thread with its own connection. */
    readonly accessWriter: AccessWriter,
  ) {
    this.keys = new SqliteKeys(db);
    this.access = new SqliteAccess(db, accessWriter);
    this.checks = new SqliteChecks(db);
    this.checkHistory = new SqliteCheckHistory(db);
    this.systemSamples = new SqliteSystemSamples(db);
    this.alerts = new SqliteAlerts(db);
    this.outbox = new SqliteOutbox(db);
    this.alertLog = new SqliteAlertLog(db);
    this.silences = new SqliteSilences(db);
    this.alertActions = new SqliteAlertActions(db);
    this.users = new SqliteUsers(db);
    this.sessions = new SqliteSessions(db);
    this.loginThrottle = new SqliteLoginThrottle(db);
    this.securityEvents = new SqliteSecurityEvents(db);
    this.bans = new SqliteBans(db);
    this.refreshTokens = new SqliteRefreshTokens(db);
    this.mfa = new SqliteMfa(db);
    this.secrets = new SqliteSecrets(db);
    this.audit = new SqliteAudit(db);
  }

  ping(): Promise<void> {
    return guarded('ping', () => {
      this.db.prepare('SELECT 1').get();
    });
  }

  /** Waits for the access record writer to finish what it was sent (until `deadline`), then closes the main connection. */
  async close(deadline?: number): Promise<void> {
    await this.accessWriter.close(deadline);
    if (this.db.open) this.db.close();
  }
}

/** Reads on the main connection (WAL readers never block the writer); writes through the writer thread. */
class SqliteAccess implements AccessRepository {
  private readonly recentStmt;

  constructor(
    db: Database.Database,
    private readonly writer: AccessWriter,
  ) {
    this.recentStmt = db.prepare('SELECT * FROM access_records ORDER BY id DESC LIMIT ?');
  }

  appendMany(records: readonly AccessRecord[]): Promise<void> {
    return this.writer.appendMany(records);
  }

  pruneBefore(before: number, limit: number): Promise<number> {
    return this.writer.pruneBefore(before, limit);
  }

  recent(limit: number): Promise<AccessRecord[]> {
    return guarded('access record read', () =>
      (this.recentStmt.all(limit) as Row[]).map((row) => ({
        at: row.at as number,
        requestId: row.request_id as string,
        route: row.route as string,
        method: row.method as string,
        path: row.path as string,
        status: row.status as number,
        durationMs: row.duration_ms as number,
        clientIp: row.client_ip as string,
        keyId: (row.key_id as string | null) ?? null,
        errorCode: (row.error_code as string | null) ?? null,
      })),
    );
  }
}

class SqliteChecks implements CheckResultRepository {
  private readonly insertStmt;
  private readonly recentStmt;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      'INSERT INTO check_results (check_name, at, status, latency_ms, detail, value) VALUES (@check, @at, @status, @latencyMs, @detail, @value)',
    );
    this.recentStmt = db.prepare('SELECT * FROM check_results WHERE check_name = ? ORDER BY at DESC, id DESC LIMIT ?');
  }

  append(result: CheckResult): Promise<void> {
    return guarded('check result write', () => {
      this.insertStmt.run({ ...result, value: result.value ?? null });
    });
  }

  recent(check: string, limit: number): Promise<CheckResult[]> {
    return guarded('check result read', () =>
      (this.recentStmt.all(check, limit) as Row[]).map((row) => ({
        check: row.check_name as string,
        at: row.at as number,
        status: row.status as CheckResult['status'],
        latencyMs: row.latency_ms as number,
        detail: row.detail as string,
      })),
    );
  }
}

class SqliteOutbox implements OutboxRepository {
  private readonly insertStmt;
  private readonly dueStmt;
  private readonly deliveredStmt;
  private readonly failedStmt;
  private readonly expiredStmt;
  private readonly listStmt;
  private readonly getStmt;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO notifications (alert_id, receiver, kind, payload, state, attempts, created_at, next_attempt_at)
       VALUES (@alertId, @receiver, @kind, @payload, 'pending', 0, @createdAt, @createdAt)`,
    );
    this.dueStmt = db.prepare("SELECT * FROM notifications WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?");
    this.deliveredStmt = db.prepare("UPDATE notifications SET state = 'delivered', attempts = attempts + 1, delivered_at = ?, last_error = NULL WHERE id = ?");
    this.failedStmt = db.prepare('UPDATE notifications SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?');
    this.expiredStmt = db.prepare("UPDATE notifications SET state = 'expired', attempts = attempts + 1, last_error = ? WHERE id = ?");
    this.listStmt = db.prepare('SELECT * FROM notifications WHERE alert_id = ? ORDER BY id');
    this.getStmt = db.prepare('SELECT * FROM notifications WHERE id = ?');
  }

  enqueue(n: NewNotification): Promise<number> {
    return guarded('notification enqueue', () => Number(this.insertStmt.run(n).lastInsertRowid));
  }

  due(now: number, limit: number): Promise<Notification[]> {
    return guarded('outbox read', () => (this.dueStmt.all(now, limit) as Row[]).map(toNotification));
  }

  markDelivered(id: number, at: number): Promise<void> {
    return guarded('outbox update', () => {
      this.deliveredStmt.run(at, id);
    });
  }

  markFailed(id: number, error: string, nextAttemptAt: number): Promise<void> {
    return guarded('outbox update', () => {
      this.failedStmt.run(error, nextAttemptAt, id);
    });
  }

  markExpired(id: number, error: string): Promise<void> {
    return guarded('outbox update', () => {
      this.expiredStmt.run(error, id);
    });
  }

  list(alertId: string): Promise<Notification[]> {
    return guarded('outbox read', () => (this.listStmt.all(alertId) as Row[]).map(toNotification));
  }

  get(id: number): Promise<Notification | undefined> {
    return guarded('outbox read', () => {
      const row = this.getStmt.get(id) as Row | undefined;
      return row && toNotification(row);
    });
  }
}

function toNotification(row: Row): Notification {
  return {
    id: row.id as number,
    alertId: row.alert_id as string,
    receiver: row.receiver as string,
    kind: row.kind as Notification['kind'],
    payload: row.payload as string,
    state: row.state as Notification['state'],
    attempts: row.attempts as number,
    createdAt: row.created_at as number,
    nextAttemptAt: row.next_attempt_at as number,
    lastError: (row.last_error as string | null) ?? null,
    deliveredAt: (row.delivered_at as number | null) ?? null,
  };
}
