import type { LoginLock } from '../store/records.js';
import type { LoginThrottleRepository } from '../store/store.js';

export interface LockoutPolicy {
  maxFailures: number;
  window: number;
  baseLock: number;
  maxLock: number;
  ipMaxFailures: number;
}

/** A lock's level is remembered this long after it was set; a repeat within it doubles the next lock. */
export const LOCK_LEVEL_MEMORY_MS = 24 * 3_600_000;

export const accountSubject = (username: string): string => `account:${username}`;
export const ipSubject = (ip: string): string => `ip:${ip}`;

/**
 * Counts failed logins per subject and locks a subject that reaches its limit within the window.
 * Each lock doubles the previous one (up to `maxLock`) while the previous lock is remembered, so a
 * patient guesser slows down exponentially while a user who mistypes a few times barely notices.
 */
export class LoginThrottle {
  constructor(
    private readonly repo: LoginThrottleRepository,
    private readonly policy: LockoutPolicy,
  ) {}

  /** The latest time any of the subjects stays locked until, if one is locked now. */
  async lockedUntil(subjects: readonly string[], now: number): Promise<number | undefined> {
    let until: number | undefined;
    for (const subject of subjects) {
      const lock = await this.repo.getLock(subject);
      if (lock && lock.lockedUntil > now) until = Math.max(until ?? 0, lock.lockedUntil);
    }
    return until;
  }

  /** Counts a failure; returns the new lock when this failure reached the limit. */
  async recordFailure(subject: string, limit: number, now: number): Promise<LoginLock | undefined> {
    await this.repo.recordFailure(subject, now);
    const failures = await this.repo.failuresSince(subject, now - this.policy.window);
    if (failures < limit) return undefined;
    const previous = await this.repo.getLock(subject);
    const level = previous && now - previous.lockedAt < LOCK_LEVEL_MEMORY_MS ? previous.level + 1 : 1;
    const duration = Math.min(this.policy.maxLock, this.policy.baseLock * 2 ** Math.min(level - 1, 30));
    const lock: LoginLock = { subject, lockedUntil: now + duration, level, lockedAt: now };
    await this.repo.setLock(lock);
    // The next lock needs a full set of new failures after this one ends.
    await this.repo.clearFailures(subject);
    return lock;
  }

  accountLimit(): number {
    return this.policy.maxFailures;
  }

  ipLimit(): number {
    return this.policy.ipMaxFailures;
  }

  /** After a successful login: the account's failure count starts again (its lock level is kept). */
  async recordSuccess(subject: string): Promise<void> {
    await this.repo.clearFailures(subject);
  }

  /** The recovery path (`vigil users unlock`): removes the lock, its level and the failure count. */
  async unlock(subject: string): Promise<void> {
    await this.repo.clearLock(subject);
    await this.repo.clearFailures(subject);
  }

  async prune(now: number): Promise<void> {
    await this.repo.prune(now - this.policy.window);
  }
}
