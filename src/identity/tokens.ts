import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { JWTPayload } from 'jose';
import { VigilError } from '../core/errors.js';
import type { User } from '../store/records.js';
import type { RefreshTokenRepository, UserRepository } from '../store/store.js';
import type { SecurityEventRecorder } from './security-events.js';
import type { SigningKeys } from './signing-keys.js';

/** RFC 9068 access-token type; refresh tokens carry their own, so neither passes for the other. */
export const ACCESS_TYP = 'at+jwt';
export const REFRESH_TYP = 'refresh+jwt';
/** Only the algorithms of Vigil's own keys: `none`, HMAC and RSA are refused before any key is looked at. */
export const ACCEPTED_ALGORITHMS = ['EdDSA', 'ES256'];
const MAX_TOKEN_CHARS = 8192;

export interface TokenPolicy {
  issuer: string;
  audience: string;
  accessTtl: number;
  refreshTtl: number;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Seconds. */
  expiresIn: number;
  refreshExpiresIn: number;
}

export interface AccessIdentity {
  userId: string;
  username: string;
  jti: string;
}

const invalid = (why: string): VigilError => new VigilError('VGL_TOKEN_INVALID', why);

/**
 * Vigil-issued JWTs: short access tokens and rotating refresh tokens, signed by the current
 * signing key. Each refresh token is single-use; presenting one that was already used means it
 * was copied, so the whole family (every token descended from that login) is revoked.
 */
export class TokenService {
  constructor(
    private readonly keys: SigningKeys,
    private readonly repo: RefreshTokenRepository,
    private readonly users: UserRepository,
    private readonly events: SecurityEventRecorder,
    private readonly policy: TokenPolicy,
  ) {}

  async issue(user: User, now: number, familyId: string = randomUUID()): Promise<TokenPair> {
    const key = this.keys.current();
    const iat = Math.floor(now / 1000);
    const sign = (typ: string, ttl: number, jti: string, extra: JWTPayload): Promise<string> =>
      new SignJWT({ ...extra, token_use: typ === ACCESS_TYP ? 'access' : 'refresh', name: user.username })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ })
        .setIssuer(this.policy.issuer)
        .setAudience(this.policy.audience)
        .setSubject(user.id)
        .setJti(jti)
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(iat + Math.floor(ttl / 1000))
        .sign(key.privateKey);
    const refreshJti = randomUUID();
    await this.repo.insert({ jti: refreshJti, familyId, userId: user.id, createdAt: now, expiresAt: now + this.policy.refreshTtl, usedAt: null, revokedAt: null });
    return {
      // The role lets a gateway route authorize the caller without a store lookup (`roles: [...]`).
      accessToken: await sign(ACCESS_TYP, this.policy.accessTtl, randomUUID(), { role: user.role }),
      refreshToken: await sign(REFRESH_TYP, this.policy.refreshTtl, refreshJti, { fam: familyId }),
      tokenType: 'Bearer',
      expiresIn: Math.floor(this.policy.accessTtl / 1000),
      refreshExpiresIn: Math.floor(this.policy.refreshTtl / 1000),
    };
  }

  /** The identity in a valid access token; VGL_TOKEN_INVALID for anything else, refresh tokens included. */
  async verifyAccess(token: string, now: number): Promise<AccessIdentity> {
    const payload = await this.verify(token, ACCESS_TYP, now);
    if (payload.token_use !== 'access') throw invalid('not an access token');
    return { userId: payload.sub as string, username: String(payload.name), jti: payload.jti as string };
  }

  /** Rotates a refresh token: the presented one is spent, a new pair in the same family comes back. */
  async refresh(token: string, now: number, context: { sourceIp: string; requestId: string | null }): Promise<{ pair: TokenPair; user: User }> {
    const payload = await this.verify(token, REFRESH_TYP, now);
    if (payload.token_use !== 'refresh') throw invalid('not a refresh token');
    const record = await this.repo.get(payload.jti as string);
    if (!record || record.userId !== payload.sub || record.familyId !== payload.fam) throw invalid('unknown refresh token');
    if (record.revokedAt !== null) throw invalid('the refresh token was revoked');
    if (!(await this.repo.markUsed(record.jti, now))) {
      const revoked = await this.repo.revokeFamily(record.familyId, now);
      await this.events.record({
        at: now,
        type: 'auth.refresh_reuse',
        severity: 'high',
        sourceIp: context.sourceIp,
        identity: String(payload.name),
        correlationId: context.requestId,
        details: { familyId: record.familyId, revoked },
      });
      throw invalid('the refresh token was already used; every token of its login is now revoked');
    }
    const user = await this.users.get(record.userId);
    if (!user || user.disabled) {
      await this.repo.revokeFamily(record.familyId, now);
      throw invalid('the user no longer exists or is disabled');
    }
    return { pair: await this.issue(user, now, record.familyId), user };
  }

  /** Logout everywhere for token clients: no refresh token of the user works afterwards. */
  revokeForUser(userId: string, now: number): Promise<number> {
    return this.repo.revokeForUser(userId, now);
  }

  private async verify(token: string, typ: string, now: number): Promise<JWTPayload> {
    if (token.length > MAX_TOKEN_CHARS) throw invalid('the token is too long');
    try {
      // Keys come only from Vigil's own set, chosen by `kid`: `jku`, `jwk` and `x5u` headers are never followed.
      const { payload } = await jwtVerify(token, this.keys.keySet(), {
        issuer: this.policy.issuer,
        audience: this.policy.audience,
        algorithms: ACCEPTED_ALGORITHMS,
        typ,
        currentDate: new Date(now),
        requiredClaims: ['exp', 'iat', 'nbf', 'sub', 'jti'],
      });
      return payload;
    } catch (err) {
      // jose's codes (ERR_JWT_EXPIRED, ERR_JWS_SIGNATURE_VERIFICATION_FAILED, …) say what failed without echoing the token.
      throw new VigilError('VGL_TOKEN_INVALID', `the token is not valid (${(err as { code?: string }).code ?? 'malformed'})`, { cause: err });
    }
  }
}
