import type Database from 'better-sqlite3';
import { VigilError } from '../../core/errors.js';
import type { LoginLock, Session, User } from '../records.js';
import type { LoginThrottleRepository, SessionRepository, UserRepository } from '../store.js';
import { guarded } from './guarded.js';

type Row = Record<string, unknown>;

export class SqliteUsers implements UserRepository {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly byNameStmt;
  private readonly listStmt;
  private readonly updateStmt;
  private readonly countStmt;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO users (id, username, role, password_hash, disabled, must_change_password, created_at, updated_at)
       VALUES (@id, @username, @role, @passwordHash, @disabled, @mustChangePassword, @createdAt, @updatedAt)`,
    );
    this.getStmt = db.prepare('SELECT * FROM users WHERE id = ?');
    this.byNameStmt = db.prepare('SELECT * FROM users WHERE username = ?');
    this.listStmt = db.prepare('SELECT * FROM users ORDER BY created_at, username');
    this.updateStmt = db.prepare(
      `UPDATE users SET username = @username, role = @role, password_hash = @passwordHash, disabled = @disabled,
         must_change_password = @mustChangePassword, updated_at = @updatedAt WHERE id = @id`,
    );
    this.countStmt = db.prepare('SELECT count(*) FROM users').pluck();
  }

  insert(user: User): Promise<void> {
    try {
      this.insertStmt.run(toRow(user));
      return Promise.resolve();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        return Promise.reject(new VigilError('VGL_USER_EXISTS', `a user named '${user.username}' already exists`));
      }
      return Promise.reject(new VigilError('VGL_STORE_FAILED', `user insert failed: ${(err as Error).message}`, { cause: err }));
    }
  }

  get(id: string): Promise<User | undefined> {
    return guarded('user read', () => optional(this.getStmt.get(id) as Row | undefined));
  }

  byUsername(username: string): Promise<User | undefined> {
    return guarded('user read', () => optional(this.byNameStmt.get(username) as Row | undefined));
  }

  list(): Promise<User[]> {
    return guarded('user list', () => (this.listStmt.all() as Row[]).map(toUser));
  }

  update(user: User): Promise<boolean> {
    return guarded('user update', () => this.updateStmt.run(toRow(user)).changes > 0);
  }

  count(): Promise<number> {
    return guarded('user count', () => this.countStmt.get() as number);
  }
}

function toRow(user: User): Row {
  return { ...user, disabled: user.disabled ? 1 : 0, mustChangePassword: user.mustChangePassword ? 1 : 0 };
}

function optional(row: Row | undefined): User | undefined {
  return row && toUser(row);
}

function toUser(row: Row): User {
  return {
    id: row.id as string,
    username: row.username as string,
    role: row.role as string,
    passwordHash: row.password_hash as string,
    disabled: row.disabled === 1,
    mustChangePassword: row.must_change_password === 1,
    createdAt: row.created_at as number,
    updatedAt: row.updated_at as number,
  };
}

function sessionFromRow(row: Row): Session {
  return {
    tokenHash: row.token_hash as string,
    userId: row.user_id as string,
    createdAt: row.created_at as number,
    lastSeenAt: row.last_seen_at as number,
    expiresAt: row.expires_at as number,
    revokedAt: (row.revoked_at as number | null) ?? null,
    sourceIp: row.source_ip as string,
    mfaPending: row.mfa_pending === 1,
  };
}

export class SqliteSessions implements SessionRepository {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly touchStmt;
  private readonly revokeStmt;
  private readonly revokeUserStmt;
  private readonly listUserStmt;
  private readonly pruneStmt;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, revoked_at, source_ip, mfa_pending)
       VALUES (@tokenHash, @userId, @createdAt, @lastSeenAt, @expiresAt, @revokedAt, @sourceIp, @mfaPending)`,
    );
    this.getStmt = db.prepare('SELECT * FROM sessions WHERE token_hash = ?');
    this.touchStmt = db.prepare('UPDATE sessions SET last_seen_at = max(last_seen_at, ?) WHERE token_hash = ?');
    this.revokeStmt = db.prepare('UPDATE sessions SET revoked_at = coalesce(revoked_at, ?) WHERE token_hash = ?');
    this.revokeUserStmt = db.prepare('UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL');
    this.listUserStmt = db.prepare('SELECT * FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC LIMIT 1000');
    this.pruneStmt = db.prepare('DELETE FROM sessions WHERE expires_at < ? OR revoked_at < ?');
  }

  insert(session: Session): Promise<void> {
    return guarded('session insert', () => {
      this.insertStmt.run({ ...session, mfaPending: session.mfaPending === true ? 1 : 0 });
    });
  }

  get(tokenHash: string): Promise<Session | undefined> {
    return guarded('session read', () => {
      const row = this.getStmt.get(tokenHash) as Row | undefined;
      return row && sessionFromRow(row);
    });
  }

  listForUser(userId: string, now: number): Promise<Session[]> {
    return guarded('session list', () => (this.listUserStmt.all(userId, now) as Row[]).map(sessionFromRow));
  }

  touch(tokenHash: string, at: number): Promise<void> {
    return guarded('session touch', () => {
      this.touchStmt.run(at, tokenHash);
    });
  }

  revoke(tokenHash: string, at: number): Promise<void> {
    return guarded('session revoke', () => {
      this.revokeStmt.run(at, tokenHash);
    });
  }

  revokeForUser(userId: string, at: number): Promise<number> {
    return guarded('session revoke', () => this.revokeUserStmt.run(at, userId).changes);
  }

  prune(before: number): Promise<void> {
    return guarded('session prune', () => {
      this.pruneStmt.run(before, before);
    });
  }
}

export class SqliteLoginThrottle implements LoginThrottleRepository {
  private readonly failStmt;
  private readonly countStmt;
  private readonly clearStmt;
  private readonly getLockStmt;
  private readonly setLockStmt;
  private readonly clearLockStmt;
  private readonly pruneStmt;

  constructor(db: Database.Database) {
    this.failStmt = db.prepare('INSERT INTO login_failures (subject, at) VALUES (?, ?)');
    this.countStmt = db.prepare('SELECT count(*) FROM login_failures WHERE subject = ? AND at > ?').pluck();
    this.clearStmt = db.prepare('DELETE FROM login_failures WHERE subject = ?');
    this.getLockStmt = db.prepare('SELECT * FROM login_locks WHERE subject = ?');
    this.setLockStmt = db.prepare(
      `INSERT INTO login_locks (subject, locked_until, level, locked_at) VALUES (@subject, @lockedUntil, @level, @lockedAt)
       ON CONFLICT (subject) DO UPDATE SET locked_until = excluded.locked_until, level = excluded.level, locked_at = excluded.locked_at`,
    );
    this.clearLockStmt = db.prepare('DELETE FROM login_locks WHERE subject = ?');
    this.pruneStmt = db.prepare('DELETE FROM login_failures WHERE at <= ?');
  }

  recordFailure(subject: string, at: number): Promise<void> {
    return guarded('login failure write', () => {
      this.failStmt.run(subject, at);
    });
  }

  failuresSince(subject: string, since: number): Promise<number> {
    return guarded('login failure read', () => this.countStmt.get(subject, since) as number);
  }

  clearFailures(subject: string): Promise<void> {
    return guarded('login failure clear', () => {
      this.clearStmt.run(subject);
    });
  }

  getLock(subject: string): Promise<LoginLock | undefined> {
    return guarded('login lock read', () => {
      const row = this.getLockStmt.get(subject) as Row | undefined;
      return row && { subject, lockedUntil: row.locked_until as number, level: row.level as number, lockedAt: row.locked_at as number };
    });
  }

  setLock(lock: LoginLock): Promise<void> {
    return guarded('login lock write', () => {
      this.setLockStmt.run(lock);
    });
  }

  clearLock(subject: string): Promise<void> {
    return guarded('login lock clear', () => {
      this.clearLockStmt.run(subject);
    });
  }

  prune(before: number): Promise<void> {
    return guarded('login failure prune', () => {
      this.pruneStmt.run(before);
    });
  }
}
