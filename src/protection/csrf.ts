import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, VigilError } from '../core/errors.js';
import type { SecurityEventRecorder } from '../identity/security-events.js';
import { hashToken, readCookie, SESSION_COOKIE } from '../identity/sessions.js';

/** Readable by the console's scripts (not HttpOnly), bound to this origin like the session cookie. */
export const CSRF_COOKIE = '__Host-vigil_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** A token dated this far ahead of the server clock is still accepted (clock steps between instances). */
const FUTURE_SKEW = 60_000;

/** The CSRF key, derived from the data directory's key-hash secret with its own label (domain separation), so every instance sharing the data dir agrees. */
export function deriveCsrfKey(secret: Buffer): Buffer {
  return createHmac('sha256', secret).update('vigil-csrf-v1').digest();
}

export type CsrfVerdict = 'ok' | 'invalid' | 'expired';

/**
 * Signed double-submit tokens: `<issued-at base36>.<HMAC-SHA256(key, binding "." issued-at) base64url>`,
 * where the binding is the session's token hash. A token is only good for the session it was
 * issued to and for `maxAge`; the cookie and the header must carry the same one.
 */
export class CsrfTokens {
  constructor(
    private readonly key: Buffer,
    readonly maxAge: number,
  ) {}

  issue(binding: string, at: number): string {
    const issued = at.toString(36);
    return `${issued}.${this.mac(binding, issued)}`;
  }

  verify(token: string, binding: string, at: number): CsrfVerdict {
    const dot = token.indexOf('.');
    if (dot < 1 || dot > 12) return 'invalid';
    const issued = token.slice(0, dot);
    const expected = Buffer.from(this.mac(binding, issued));
    const given = Buffer.from(token.slice(dot + 1));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    const issuedAt = parseInt(issued, 36);
    if (!Number.isSafeInteger(issuedAt) || issuedAt > at + FUTURE_SKEW || at - issuedAt > this.maxAge) return 'expired';
    return 'ok';
  }

  cookie(token: string): string {
    return `${CSRF_COOKIE}=${token}; Path=/; Max-Age=${Math.floor(this.maxAge / 1000)}; Secure; SameSite=Strict`;
  }

  private mac(binding: string, issued: string): string {
    return createHmac('sha256', this.key).update(`${binding}.${issued}`).digest('base64url');
  }
}

/** Constant-time equality of two strings of possibly different length. */
function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The session token a response is setting (login, MFA step, password change), or undefined; '' when it clears it. */
function newSessionToken(setCookie: ReturnType<FastifyReply['getHeader']>): string | undefined {
  const values = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [String(setCookie)];
  for (const value of values) {
    if (!value.startsWith(`${SESSION_COOKIE}=`)) continue;
    const end = value.indexOf(';');
    return value.slice(SESSION_COOKIE.length + 1, end === -1 ? undefined : end);
  }
  return undefined;
}

/**
 * CSRF protection for the console, installed after the admin auth hook (which sets the principal):
 * - every POST/PUT/PATCH/DELETE authenticated by the session cookie must carry the token in the
 *   `x-csrf-token` header and the `__Host-vigil_csrf` cookie, equal, signed for this session and
 *   not older than `maxAge` — else a coded 403 and a `csrf.rejected` security event; requests with a
 *   bearer token (no cookie session) are exempt, as a browser never adds those on its own;
 * - a response that sets a new session cookie also sets a token for it (cookie and header), and one
 *   that clears the session clears the token;
 * - `GET /api/v1/auth/csrf` hands out a fresh token for the current session.
 */
export function installCsrf(app: FastifyInstance, tokens: CsrfTokens, events: SecurityEventRecorder, now: () => number): void {
  app.addHook('onRequest', async (request, reply) => {
    const session = request.principal?.session;
    if (!session || !MUTATING.has(request.method)) return;
    const header = request.headers[CSRF_HEADER];
    const cookie = readCookie(request.headers.cookie, CSRF_COOKIE);
    let error: VigilError | undefined;
    if (typeof header !== 'string' || header === '' || cookie === undefined || cookie === '') {
      error = new VigilError('VGL_CSRF_MISSING', `send the CSRF token in the ${CSRF_HEADER} header and the ${CSRF_COOKIE} cookie`);
    } else if (!sameToken(header, cookie)) {
      error = new VigilError('VGL_CSRF_INVALID', 'the CSRF header and cookie differ');
    } else {
      const verdict = tokens.verify(header, session.tokenHash, now());
      if (verdict === 'invalid') error = new VigilError('VGL_CSRF_INVALID', 'the CSRF token is not valid for this session');
      else if (verdict === 'expired') error = new VigilError('VGL_CSRF_EXPIRED', 'the CSRF token has expired; fetch a new one');
    }
    if (!error) return;
    void events.record({
      at: now(),
      type: 'csrf.rejected',
      severity: 'medium',
      sourceIp: request.ip,
      identity: request.principal?.user.username ?? null,
      correlationId: request.id,
      route: `console:${request.routeOptions.url ?? request.url.split('?')[0]}`,
      details: { code: error.code, method: request.method },
    });
    return deny(reply, request, error);
  });

  app.addHook('onSend', async (_request, reply) => {
    const token = newSessionToken(reply.getHeader('set-cookie'));
    if (token === undefined) return;
    // Fastify appends Set-Cookie values to those already set, so only the new cookie is passed.
    if (token === '') {
      reply.header('set-cookie', `${CSRF_COOKIE}=; Path=/; Max-Age=0; Secure; SameSite=Strict`);
      return;
    }
    const csrf = tokens.issue(hashToken(token), now());
    reply.header('set-cookie', tokens.cookie(csrf));
    reply.header(CSRF_HEADER, csrf);
  });

  // `mfa`: a session that still owes its second factor needs a token to send it.
  app.get('/api/v1/auth/csrf', { config: { permission: 'mfa' } }, async (request, reply) => {
    const session = request.principal?.session;
    if (!session) return deny(reply, request, new VigilError('VGL_CONSOLE_BAD_REQUEST', 'CSRF tokens are for cookie sessions; bearer-token calls need none'));
    const token = tokens.issue(session.tokenHash, now());
    reply.header('set-cookie', tokens.cookie(token));
    return { token, header: CSRF_HEADER, maxAgeSeconds: Math.floor(tokens.maxAge / 1000) };
  });
}

function deny(reply: FastifyReply, request: FastifyRequest, error: VigilError): FastifyReply {
  return reply.code(error.status).header('content-type', 'application/json; charset=utf-8').send(errorBody(error.code, error.message, request.id));
}
