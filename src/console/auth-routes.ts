import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VigilError } from '../core/errors.js';
import { LoginLockedError } from '../identity/index.js';
import type { Identity } from '../identity/index.js';
import { verifyPassword } from '../identity/passwords.js';
import { SessionService } from '../identity/sessions.js';
import { accountSubject } from '../identity/lockout.js';
import { publicUser } from '../identity/users.js';
import type { User } from '../store/records.js';
import { audited } from './admin-errors.js';

const credentials = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password'],
  properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

const passwordChange = {
  type: 'object',
  additionalProperties: false,
  required: ['currentPassword', 'newPassword'],
  properties: { currentPassword: { type: 'string', minLength: 1, maxLength: 1024 }, newPassword: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

/** Login, logout, logout everywhere, the signed-in user, and changing one's own password. */
export function registerAuthRoutes(scope: FastifyInstance, identity: Identity, now: () => number): void {
  scope.post<{ Body: { username: string; password: string } }>(
    '/api/v1/auth/login',
    { config: { permission: 'public' }, schema: { body: credentials } },
    async (request, reply) => {
      const { username, password } = request.body;
      const user = await audited(identity, request, { action: 'users.login', target: username }, now, () =>
        identity.login.login({ username, password, sourceIp: request.ip, requestId: request.id, now: now() }),
      );
      // A fresh token at every login: a session ID planted before login is never promoted. With
      // TOTP on, this session can do nothing but present the second factor.
      const mfaRequired = await identity.mfa.enabled(user.id);
      reply.header('set-cookie', await newSessionCookie(identity, user, request, now(), mfaRequired));
      if (mfaRequired) return { mfaRequired: true };
      await identity.throttle.recordSuccess(accountSubject(user.username));
      return { user: publicUser(user), permissions: identity.roles.permissions(user.role), passwordChangeRequired: user.mustChangePassword, mfaRequired: false };
    },
  );

  scope.post('/api/v1/auth/logout', { config: { permission: 'authenticated' } }, async (request, reply) => {
    const { session, user } = principalOf(request);
    // A bearer client has no session to end; it drops its tokens (or uses logout-all).
    await audited(identity, request, { action: 'users.logout', target: user.username }, now, async () => {
      if (session) await identity.sessions.revoke(session.tokenHash, now());
    });
    reply.header('set-cookie', SessionService.clearCookie());
    return { ok: true };
  });

  scope.post('/api/v1/auth/logout-all', { config: { permission: 'authenticated' } }, async (request, reply) => {
    const { user } = principalOf(request);
    const revoked = await audited(identity, request, { action: 'users.logout_all', target: user.username }, now, async () => {
      await identity.tokens.revokeForUser(user.id, now());
      return identity.sessions.revokeAll(user.id, now());
    });
    reply.header('set-cookie', SessionService.clearCookie());
    return { revoked };
  });

  scope.get('/api/v1/auth/me', { config: { permission: 'authenticated' } }, async (request) => {
    const { user, session } = principalOf(request);
    return {
      user: publicUser(user),
      permissions: identity.roles.permissions(user.role),
      session: session ? { createdAt: session.createdAt, expiresAt: session.expiresAt } : null,
      passwordChangeRequired: user.mustChangePassword,
    };
  });

  scope.post<{ Body: { currentPassword: string; newPassword: string } }>(
    '/api/v1/auth/password',
    { config: { permission: 'authenticated' }, schema: { body: passwordChange } },
    async (request, reply) => {
      const { user } = principalOf(request);
      const changed = await audited(identity, request, { action: 'users.change_password', target: user.username }, now, async () => {
        // Guessing the current password through a stolen session counts toward the same lock as logins.
        const subject = accountSubject(user.username);
        const lockedUntil = await identity.throttle.lockedUntil([subject], now());
        if (lockedUntil !== undefined) throw new LoginLockedError(Math.max(1, Math.ceil((lockedUntil - now()) / 1000)));
        if (!(await verifyPassword(user.passwordHash, request.body.currentPassword))) {
          await identity.throttle.recordFailure(subject, identity.throttle.accountLimit(), now());
          throw new VigilError('VGL_LOGIN_FAILED', 'the current password is wrong');
        }
        if (request.body.currentPassword === request.body.newPassword) throw new VigilError('VGL_PASSWORD_WEAK', 'the new password must differ from the current one');
        return identity.users.changePassword(user.username, request.body.newPassword, now());
      });
      // Changing the password ended every session of the user; this one continues under a new token.
      reply.header('set-cookie', await newSessionCookie(identity, changed, request, now()));
      return { user: publicUser(changed) };
    },
  );
}

export async function newSessionCookie(identity: Identity, user: User, request: FastifyRequest, at: number, mfaPending = false): Promise<string> {
  const { token } = await identity.sessions.create(user, request.ip, at, { mfaPending });
  return identity.sessions.cookie(token);
}

export function principalOf(request: FastifyRequest): NonNullable<FastifyRequest['principal']> {
  // The admin hook has set it for every route that is not public.
  if (!request.principal) throw new VigilError('VGL_CONSOLE_UNAUTHENTICATED', 'sign in first: no valid console session');
  return request.principal;
}
