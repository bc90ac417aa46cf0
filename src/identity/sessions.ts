import { createHash, randomBytes } from 'node:crypto';
import type { Session, User } from '../store/records.js';
import type { SessionRepository, UserRepository } from '../store/store.js';

export interface SessionPolicy {
  idleTimeout: number;
  absoluteTimeout: number;
}

/** `__Host-` binds the cookie to this origin: Secure, Path=/, no Domain, so no sibling host can set or read it. */
export const SESSION_COOKIE = '__Host-vigil_session';
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Last-seen times are written at most this often per session, not on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface ResolvedSession {
  session: Session;
  user: User;
}

/**
 * Console sessions: opaque 256-bit random tokens; the store keeps only their SHA-256, so lookup
 * by hash needs no secret comparison and a copy of the database cannot be replayed.
 */
export class SessionService {
  constructor(
    private readonly repo: SessionRepository,
    private readonly users: UserRepository,
    readonly policy: SessionPolicy,
  ) {}

  /** `mfaPending`: the password was right but the second factor is still owed. */
  async create(user: User, sourceIp: string, now: number, options: { mfaPending?: boolean } = {}): Promise<{ token: string; session: Session }> {
    const token = randomBytes(32).toString('base64url');
    const session: Session = {
      tokenHash: hashToken(token),
      userId: user.id,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.policy.absoluteTimeout,
      revokedAt: null,
      sourceIp,
      mfaPending: options.mfaPending === true,
    };
    await this.repo.insert(session);
    return { token, session };
  }

  /** The live session and its enabled user, or undefined for anything malformed, unknown, revoked, idle or expired. */
  async resolve(token: string, now: number): Promise<ResolvedSession | undefined> {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const session = await this.repo.get(hashToken(token));
    if (!session || session.revokedAt !== null || session.expiresAt <= now || now - session.lastSeenAt >= this.policy.idleTimeout) return undefined;
    const user = await this.users.get(session.userId);
    if (!user || user.disabled) return undefined;
    if (now - session.lastSeenAt >= TOUCH_INTERVAL_MS) {
      await this.repo.touch(session.tokenHash, now);
      session.lastSeenAt = now;
    }
    return { session, user };
  }

  async revoke(tokenHash: string, now: number): Promise<void> {
    await this.repo.revoke(tokenHash, now);
  }

  /** Logout everywhere. */
  revokeAll(userId: string, now: number): Promise<number> {
    return this.repo.revokeForUser(userId, now);
  }

  /** The Set-Cookie value for a new session; Max-Age matches the absolute timeout. */
  cookie(token: string): string {
    return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${Math.floor(this.policy.absoluteTimeout / 1000)}; HttpOnly; Secure; SameSite=Strict`;
  }

  static clearCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
  }
}

/** The value of one cookie from a Cookie header; undefined when absent or repeated (ambiguous). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined || header.length > 8192) return undefined;
  let found: string | undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    if (found !== undefined) return undefined;
    found = part.slice(eq + 1).trim();
  }
  return found;
}
