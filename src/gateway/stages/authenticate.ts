import type { Clock } from '../../core/clock.js';
import { isVigilError, VigilError } from '../../core/errors.js';
import type { KeyCache } from '../../identity/api-keys.js';
import type { SecurityEventRecorder } from '../../identity/security-events.js';
import type { SecuritySeverity } from '../../store/records.js';
import type { GatewayContext, Stage } from '../context.js';
import type { JwtTrust } from '../jwt-trust.js';

export type AuthMode = 'apiKey' | 'jwt' | 'either';

export interface AuthDeps {
  keys: KeyCache;
  clock: Clock;
  jwt: JwtTrust;
  events: SecurityEventRecorder;
}

/** Vigil API keys look like `vgl_<id>_<secret>`; on `either` routes anything else is taken for a JWT. */
const KEY_PREFIX = 'vgl_';

const SEVERITY: Partial<Record<string, SecuritySeverity>> = { VGL_AUTH_MISSING: 'low', VGL_AUTH_ISSUER_UNAVAILABLE: 'low', VGL_AUTH_FORBIDDEN: 'medium' };

/**
 * Records a gateway auth rejection as a security event (never on the success path) and returns the
 * error to throw. A flood of the same rejection (address, route, code, reason) is coalesced by the
 * recorder, so unauthenticated traffic cannot turn every request into a stored event.
 */
export function rejectAuth(ctx: GatewayContext, events: SecurityEventRecorder, clock: Clock, error: VigilError): VigilError {
  const caller = ctx.caller;
  events.reject(`auth.gateway_rejected|${ctx.clientIp}|${ctx.route.name}|${error.code}|${error.message}`, {
    at: clock.now(),
    type: 'auth.gateway_rejected',
    severity: SEVERITY[error.code] ?? 'medium',
    sourceIp: ctx.clientIp,
    identity: caller ? (caller.keyId !== null ? `key:${caller.keyId}` : `${caller.issuer ?? 'jwt'}:${caller.subject}`) : null,
    correlationId: ctx.requestId,
    route: ctx.route.name,
    details: { route: ctx.route.name, auth: ctx.route.config.auth, code: error.code, reason: error.message },
  });
  return error;
}

/** The bearer credential from `Authorization` ('' when the header is not `Bearer`), else `x-api-key` (not on JWT-only routes). */
function presented(ctx: GatewayContext, mode: AuthMode): string | undefined {
  const header = ctx.req.headers.authorization;
  if (header !== undefined) {
    return header.length > 7 && header.slice(0, 7).toLowerCase() === 'bearer ' ? header.slice(7).trim() : '';
  }
  if (mode === 'jwt') return undefined;
  const apiKey = ctx.req.headers['x-api-key'];
  return Array.isArray(apiKey) ? apiKey[0] : apiKey;
}

const MISSING: Record<AuthMode, string> = {
  apiKey: 'an API key is required for this route',
  jwt: 'a bearer JWT is required for this route',
  either: 'an API key or a bearer JWT is required for this route',
};

/**
 * Requires a valid credential of the route's kind: a valid, unrevoked, unexpired API key (checked in
 * memory, synchronously) or a JWT from an issuer the route trusts. The caller is kept on the
 * context for the authorize stage, the identity headers and the access record.
 */
export function authenticate(mode: AuthMode, accepted: readonly string[], deps: AuthDeps): Stage {
  const { keys, clock, jwt, events } = deps;
  const viaJwt = async (ctx: GatewayContext, token: string): Promise<void> => {
    try {
      const caller = await jwt.verify(token, accepted, clock.now());
      ctx.caller = { method: 'jwt', subject: caller.subject, keyId: null, issuer: caller.issuer, scopes: caller.scopes, roles: caller.roles, claims: caller.claims };
    } catch (err) {
      throw isVigilError(err) ? rejectAuth(ctx, events, clock, err) : err;
    }
  };
  return function authenticateStage(ctx) {
    const token = presented(ctx, mode);
    if (token === undefined) throw rejectAuth(ctx, events, clock, new VigilError('VGL_AUTH_MISSING', MISSING[mode]));
    if (mode === 'jwt' || (mode === 'either' && !token.startsWith(KEY_PREFIX))) return viaJwt(ctx, token);
    const verdict = keys.verify(token, clock.now(), ctx.clientIp);
    if (!verdict.ok) throw rejectAuth(ctx, events, clock, new VigilError('VGL_AUTH_INVALID', 'the API key is invalid, revoked or expired'));
    const { key } = verdict;
    ctx.key = key;
    ctx.caller = { method: 'apiKey', subject: key.owner ?? `key:${key.id}`, keyId: key.id, issuer: null, scopes: key.scopes, roles: [], claims: null };
  };
}
