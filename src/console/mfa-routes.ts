import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VigilError } from '../core/errors.js';
import { LoginLockedError } from '../identity/index.js';
import type { Identity } from '../identity/index.js';
import { accountSubject } from '../identity/lockout.js';
import { publicUser } from '../identity/users.js';
import type { User } from '../store/records.js';
import { audited } from './admin-errors.js';
import { newSessionCookie, principalOf } from './auth-routes.js';

const codeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['code'],
  properties: { code: { type: 'string', minLength: 1, maxLength: 32 } },
} as const;

/**
 * Checks a TOTP or recovery code for a user whose password was already right. Failures count
 * toward the account lock like wrong passwords (six digits must not be guessable), and are
 * security events.
 */
export async function checkSecondFactor(identity: Identity, user: User, code: string | undefined, request: FastifyRequest, at: number): Promise<void> {
  if (code === undefined) throw new VigilError('VGL_MFA_REQUIRED', 'this account uses TOTP: send `code` as well');
  const subject = accountSubject(user.username);
  const lockedUntil = await identity.throttle.lockedUntil([subject], at);
  if (lockedUntil !== undefined) throw new LoginLockedError(Math.max(1, Math.ceil((lockedUntil - at) / 1000)));
  if (await identity.mfa.verify(user, code, at)) return;
  await identity.events.record({ at, type: 'auth.mfa_failed', severity: 'medium', sourceIp: request.ip, identity: user.username, correlationId: request.id, details: {} });
  const lock = await identity.throttle.recordFailure(subject, identity.throttle.accountLimit(), at);
  if (lock) {
    await identity.events.record({
      at, type: 'auth.account_locked', severity: 'medium', sourceIp: request.ip, identity: user.username, correlationId: request.id,
      details: { lockedUntil: new Date(lock.lockedUntil).toISOString(), level: lock.level, after: 'mfa' },
    });
  }
  throw new VigilError('VGL_MFA_INVALID', 'the code is not valid');
}

/** TOTP: enrolment, confirmation (which turns it on and hands out recovery codes), and the second login step. */
export function registerMfaRoutes(scope: FastifyInstance, identity: Identity, now: () => number): void {
  scope.post('/api/v1/auth/mfa/enrol', { config: { permission: 'authenticated' } }, async (request) => {
    const { user } = principalOf(request);
    // Replacing an active authenticator needs the current one first, or a stolen session could swap it.
    if (await identity.mfa.enabled(user.id)) throw new VigilError('VGL_CONSOLE_BAD_REQUEST', 'TOTP is already on; an administrator can reset it');
    return audited(identity, request, { action: 'users.mfa_enrol', target: user.username }, now, () => identity.mfa.enrol(user));
  });

  scope.post<{ Body: { code: string } }>(
    '/api/v1/auth/mfa/confirm',
    { config: { permission: 'authenticated' }, schema: { body: codeBody } },
    async (request, reply) => {
      const { user } = principalOf(request);
      const recoveryCodes = await audited(identity, request, { action: 'users.mfa_confirm', target: user.username }, now, async () => {
        if (await identity.mfa.enabled(user.id)) throw new VigilError('VGL_CONSOLE_BAD_REQUEST', 'TOTP is already on');
        return identity.mfa.confirm(user, request.body.code, now());
      });
      // A privilege change: every other session ends, this one continues under a new token.
      await identity.sessions.revokeAll(user.id, now());
      reply.header('set-cookie', await newSessionCookie(identity, user, request, now()));
      return { recoveryCodes };
    },
  );

  scope.post<{ Body: { code: string } }>(
    '/api/v1/auth/mfa/verify',
    { config: { permission: 'mfa' }, schema: { body: codeBody } },
    async (request, reply) => {
      const { user, session } = principalOf(request);
      if (!session?.mfaPending) throw new VigilError('VGL_CONSOLE_BAD_REQUEST', 'this session does not owe a second factor');
      await audited(identity, request, { action: 'users.mfa_verify', target: user.username }, now, async () => {
        await checkSecondFactor(identity, user, request.body.code, request, now());
        await identity.throttle.recordSuccess(accountSubject(user.username));
        await identity.sessions.revoke(session.tokenHash, now());
      });
      reply.header('set-cookie', await newSessionCookie(identity, user, request, now()));
      return {
        user: publicUser(user),
        permissions: identity.roles.permissions(user.role),
        passwordChangeRequired: user.mustChangePassword,
        recoveryCodesLeft: await identity.mfa.unusedRecoveryCodes(user.id),
      };
    },
  );
}
