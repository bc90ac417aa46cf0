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

/**
 * A session as the admin API lists it. `id` is derived from the stored token hash (which cannot be
 * turned back into the token), so listing sessions never exposes anything that signs in.
 */
export interface SessionInfo {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  sourceIp: string;
  mfaPending: boolean;
}

export function sessionId(session: Session): string {
  return createHash('sha256').update(`session-id:${session.tokenHash}`).digest('hex').slice(0, 32);
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

  /** The user's live sessions (not revoked, not idle, not expired), newest first, as the admin API shows them. */
  async list(userId: string, now: number): Promise<SessionInfo[]> {
    const sessions = await this.repo.listForUser(userId, now);
    return sessions
      .filter((s) => now - s.lastSeenAt < this.policy.idleTimeout)
      .map((s) => ({ id: sessionId(s), createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, expiresAt: s.expiresAt, sourceIp: s.sourceIp, mfaPending: s.mfaPending === true }));
  }

  /** Ends one live session of the user by its ID; false when the user has no such session. */
  async revokeById(userId: string, id: string, now: number): Promise<boolean> {
    const session = (await this.repo.listForUser(userId, now)).find((s) => sessionId(s) === id);
    if (!session) return false;
    await this.repo.revoke(session.tokenHash, now);
    return true;
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
