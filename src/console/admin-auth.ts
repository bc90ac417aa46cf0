import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, VigilError } from '../core/errors.js';
import type { Identity, Permission } from '../identity/index.js';
import { readCookie, SESSION_COOKIE } from '../identity/sessions.js';
import type { Session, User } from '../store/records.js';

/**
 * What an admin route requires: a permission, `authenticated` (any signed-in user, also one who
 * must still change their one-time password or enrol MFA), `mfa` (the second login step, the only
 * thing a session that still owes its second factor may do), or `public` (login itself).
 */
export type RouteAccess = Permission | 'authenticated' | 'public' | 'mfa';

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: RouteAccess;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The signed-in user behind an admin request. */
export interface Principal {
  user: User;
  /** The console session, when the request used the cookie rather than a bearer access token. */
  session?: Session;
}

/** Health routes are public by the shared convention: load balancers and status pages poll them. */
const PUBLIC_PATH = /^\/api\/(?:v1\/)?health(?:\/|$|\?)/;

export function isPublicApiPath(url: string): boolean {
  return PUBLIC_PATH.test(url);
}

export interface ApiRoute {
  method: string;
  url: string;
  permission: RouteAccess | undefined;
}

/**
 * Guards every `/api/` route of the console: the session cookie must name a live session of an
 * enabled user whose role holds the route's `config.permission`. Runs on `onRequest`, before the
 * body is parsed, so an unauthenticated caller's body is never read. A bearer access token
 * (`Authorization: Bearer <jwt>`) is accepted in place of the cookie. A route that declares no
 * permission is refused to everyone (fail closed), and logged at registration so it gets fixed.
 * Without an identity (a console built for tests of other parts) every protected route answers 401.
 */
export function installAdminAuth(app: FastifyInstance, identity: Identity | undefined, now: () => number): ApiRoute[] {
  const routes: ApiRoute[] = [];
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const permission = route.config?.permission;
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, permission });
    if (permission === undefined && !isPublicApiPath(route.url)) {
      app.log.error({ url: route.url }, 'admin route declares no permission; it is refused to everyone');
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/') || isPublicApiPath(request.url)) return;
    const access = request.routeOptions.config.permission;
    if (access === 'public') return;
    const principal = identity && (await authenticate(identity, request, now()));
    if (!principal) return deny(reply, request, new VigilError('VGL_CONSOLE_UNAUTHENTICATED', 'sign in first: no valid console session'));
    request.principal = principal;
    if (principal.session?.mfaPending === true) {
      if (access === 'mfa') return;
      return deny(reply, request, new VigilError('VGL_MFA_REQUIRED', 'finish signing in: send a TOTP or recovery code to POST /api/v1/auth/mfa/verify'));
    }
    if (request.is404) return;
    if (access === 'authenticated' || access === 'mfa') return;
    if (principal.user.mustChangePassword) {
      return deny(reply, request, new VigilError('VGL_PASSWORD_CHANGE_REQUIRED', 'change the one-time password first (POST /api/v1/auth/password)'));
    }
    if (identity.mfa.required(principal.user.role) && !(await identity.mfa.enabled(principal.user.id))) {
      return deny(reply, request, new VigilError('VGL_MFA_ENROLMENT_REQUIRED', `role '${principal.user.role}' requires TOTP: enrol with POST /api/v1/auth/mfa/enrol`));
    }
    if (access === undefined) return deny(reply, request, new VigilError('VGL_CONSOLE_FORBIDDEN', 'this route declares no permission, so it is refused'));
    if (!identity.roles.can(principal.user.role, access)) {
      return deny(reply, request, new VigilError('VGL_CONSOLE_FORBIDDEN', `role '${principal.user.role}' lacks permission '${access}'`));
    }
  });
  return routes;
}

/**
 * A bearer access token (API clients) or the session cookie (the browser). The user is read from
 * the store either way, so a disabled user or a changed role takes effect on the next request.
 */
async function authenticate(identity: Identity, request: FastifyRequest, at: number): Promise<Principal | undefined> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    if (header.length <= 7 || header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
    try {
      const { userId } = await identity.tokens.verifyAccess(header.slice(7).trim(), at);
      const user = await identity.store.users.get(userId);
      return user && !user.disabled ? { user } : undefined;
    } catch {
      return undefined;
    }
  }
  const token = readCookie(request.headers.cookie, SESSION_COOKIE);
  if (token === undefined) return undefined;
  const resolved = await identity.sessions.resolve(token, at);
  return resolved && { user: resolved.user, session: resolved.session };
}

function deny(reply: FastifyReply, request: FastifyRequest, error: VigilError): FastifyReply {
  return reply.code(error.status).header('content-type', 'application/json; charset=utf-8').send(errorBody(error.code, error.message, request.id));
}
