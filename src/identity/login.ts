import { VigilError } from '../core/errors.js';
import type { User } from '../store/records.js';
import type { UserRepository } from '../store/store.js';
import { accountSubject, ipSubject } from './lockout.js';
import type { LoginThrottle } from './lockout.js';
import { decoyPasswordHash, verifyPassword } from './passwords.js';
import type { SecurityEventRecorder } from './security-events.js';

/** VGL_LOGIN_LOCKED with the seconds until the lock ends, for `Retry-After`. */
export class LoginLockedError extends VigilError {
  constructor(readonly retryAfterSeconds: number) {
    super('VGL_LOGIN_LOCKED', 'too many failed logins; try again later');
  }
}

export interface LoginAttempt {
  username: string;
  password: string;
  sourceIp: string;
  requestId: string | null;
  now: number;
}

/** Every failed login gets these exact words, whatever the reason, so the answer reveals nothing. */
const FAILED = 'invalid username or password';

/**
 * Password login with lockout. Known and unknown usernames take the same path: both are counted
 * and locked, both pay one argon2id verification (unknown ones against a decoy hash), and both
 * get the same status, body and words, so neither the answer nor its timing tells which exist.
 */
export class LoginService {
  constructor(
    private readonly users: UserRepository,
    private readonly throttle: LoginThrottle,
    private readonly events: SecurityEventRecorder,
  ) {}

  async login(attempt: LoginAttempt): Promise<User> {
    const { username, sourceIp, now } = attempt;
    const subjects = [accountSubject(username), ipSubject(sourceIp)];
    const lockedUntil = await this.throttle.lockedUntil(subjects, now);
    const user = await this.users.byUsername(username);
    // Verify even when locked or unknown: the time taken must not depend on either.
    const matches = await verifyPassword(user?.passwordHash ?? (await decoyPasswordHash()), attempt.password);
    if (lockedUntil !== undefined) {
      await this.failed(attempt, 'locked');
      throw new LoginLockedError(Math.max(1, Math.ceil((lockedUntil - now) / 1000)));
    }
    if (!user || !matches || user.disabled) {
      await this.failed(attempt, !user ? 'unknown_user' : user.disabled ? 'disabled' : 'wrong_password');
      const accountLock = await this.throttle.recordFailure(subjects[0] as string, this.throttle.accountLimit(), now);
      const ipLock = await this.throttle.recordFailure(subjects[1] as string, this.throttle.ipLimit(), now);
      if (accountLock) await this.locked(attempt, 'auth.account_locked', 'medium', accountLock.lockedUntil, accountLock.level);
      if (ipLock) await this.locked(attempt, 'auth.ip_locked', 'high', ipLock.lockedUntil, ipLock.level);
      throw new VigilError('VGL_LOGIN_FAILED', FAILED);
    }
    // The account's failure count is cleared by the caller once every factor has passed: a right
    // password alone must not wipe out failed second-factor attempts.
    return user;
  }

  private failed(attempt: LoginAttempt, reason: string): Promise<void> {
    return this.events.record({
      at: attempt.now,
      type: 'auth.login_failed',
      severity: 'low',
      sourceIp: attempt.sourceIp,
      identity: attempt.username,
      correlationId: attempt.requestId,
      details: { reason },
    });
  }

  private locked(attempt: LoginAttempt, type: string, severity: 'medium' | 'high', until: number, level: number): Promise<void> {
    return this.events.record({
      at: attempt.now,
      type,
      severity,
      sourceIp: attempt.sourceIp,
      identity: attempt.username,
      correlationId: attempt.requestId,
      details: { lockedUntil: new Date(until).toISOString(), level },
    });
  }
}
