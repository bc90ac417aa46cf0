import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VigilError } from '../core/errors.js';
import type { Identity } from '../identity/index.js';
import { accountSubject } from '../identity/lockout.js';
import { publicUser } from '../identity/users.js';
import { audited } from './admin-errors.js';
import { principalOf } from './auth-routes.js';

const username = { type: 'string', minLength: 1, maxLength: 64 } as const;
const role = { type: 'string', minLength: 1, maxLength: 63 } as const;
const params = { type: 'object', required: ['username'], properties: { username } } as const;
type Params = { Params: { username: string } };

/** Users and roles. Nobody can grant, or take over an account of, a role that holds more than their own. */
export function registerUserRoutes(scope: FastifyInstance, identity: Identity, now: () => number): void {
  const checkCanManage = (request: FastifyRequest, targetRole: string): void => {
    const mine = new Set(identity.roles.permissions(principalOf(request).user.role));
    const extra = identity.roles.permissions(targetRole).filter((p) => !mine.has(p));
    if (extra.length > 0) throw new VigilError('VGL_CONSOLE_FORBIDDEN', `role '${targetRole}' holds permissions your role lacks: ${extra.join(', ')}`);
  };

  scope.get('/api/v1/users', { config: { permission: 'users:read' } }, async () => ({ users: (await identity.users.list()).map(publicUser) }));

  scope.post<{ Body: { username: string; role: string; password: string } }>(
    '/api/v1/users',
    {
      config: { permission: 'users:write' },
      schema: { body: { type: 'object', additionalProperties: false, required: ['username', 'role', 'password'], properties: { username, role, password: { type: 'string', minLength: 1, maxLength: 1024 } } } },
    },
    async (request, reply) => {
      const { body } = request;
      const user = await audited(identity, request, { action: 'users.create', target: body.username, details: { role: body.role } }, now, async () => {
        if (identity.roles.has(body.role)) checkCanManage(request, body.role);
        return identity.users.create({ ...body, now: now() });
      });
      reply.code(201);
      return { user: publicUser(user) };
    },
  );

  scope.post<Params & { Body: { role: string } }>(
    '/api/v1/users/:username/role',
    { config: { permission: 'users:write' }, schema: { params, body: { type: 'object', additionalProperties: false, required: ['role'], properties: { role } } } },
    async (request) => {
      const target = request.params.username;
      const user = await audited(identity, request, { action: 'users.set_role', target, details: { role: request.body.role } }, now, async () => {
        checkCanManage(request, (await identity.users.get(target)).role);
        if (identity.roles.has(request.body.role)) checkCanManage(request, request.body.role);
        return identity.users.setRole(target, request.body.role, now());
      });
      return { user: publicUser(user) };
    },
  );

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    scope.post<Params>(`/api/v1/users/:username/${verb}`, { config: { permission: 'users:write' }, schema: { params } }, async (request) => {
      const target = request.params.username;
      const user = await audited(identity, request, { action: `users.${verb}`, target }, now, async () => {
        checkCanManage(request, (await identity.users.get(target)).role);
        return identity.users.setDisabled(target, disabled, now());
      });
      return { user: publicUser(user) };
    });
  }

  scope.post<Params>('/api/v1/users/:username/reset-password', { config: { permission: 'users:write' }, schema: { params } }, async (request) => {
    const target = request.params.username;
    const reset = await audited(identity, request, { action: 'users.reset_password', target }, now, async () => {
      checkCanManage(request, (await identity.users.get(target)).role);
      return identity.users.resetPassword(target, now());
    });
    // Shown once to the administrator, who hands it over; the user must replace it at login.
    return { user: publicUser(reset.user), oneTimePassword: reset.password };
  });

  scope.post<Params>('/api/v1/users/:username/unlock', { config: { permission: 'users:write' }, schema: { params } }, async (request) => {
    const target = request.params.username;
    await audited(identity, request, { action: 'users.unlock', target }, now, () => identity.throttle.unlock(accountSubject(target)));
    return { ok: true };
  });

  // Lost authenticator and recovery codes: TOTP off, every session and refresh token ends; the user enrols again.
  scope.post<Params>('/api/v1/users/:username/mfa/reset', { config: { permission: 'users:write' }, schema: { params } }, async (request) => {
    const target = request.params.username;
    await audited(identity, request, { action: 'users.reset_mfa', target }, now, async () => {
      const user = await identity.users.get(target);
      checkCanManage(request, user.role);
      await identity.mfa.remove(user.id);
      await identity.sessions.revokeAll(user.id, now());
      await identity.tokens.revokeForUser(user.id, now());
    });
    return { ok: true, mfaEnabled: false };
  });

  const sessionParams = { type: 'object', required: ['username', 'sessionId'], properties: { username, sessionId: { type: 'string', pattern: '^[0-9a-f]{32}$' } } } as const;

  scope.get<Params>('/api/v1/users/:username/sessions', { config: { permission: 'sessions:read' }, schema: { params } }, async (request) => {
    const user = await identity.users.get(request.params.username);
    return { sessions: await identity.sessions.list(user.id, now()) };
  });

  // Ending someone's sessions is taking them offline: only for users whose role is not above one's own.
  scope.delete<Params>('/api/v1/users/:username/sessions', { config: { permission: 'sessions:revoke' }, schema: { params } }, async (request) => {
    const target = request.params.username;
    const revoked = await audited(identity, request, { action: 'sessions.revoke_all', target }, now, async () => {
      const user = await identity.users.get(target);
      checkCanManage(request, user.role);
      const sessions = await identity.sessions.revokeAll(user.id, now());
      const refreshTokens = await identity.tokens.revokeForUser(user.id, now());
      return { sessions, refreshTokens };
    });
    return { revoked };
  });

  scope.delete<{ Params: { username: string; sessionId: string } }>(
    '/api/v1/users/:username/sessions/:sessionId',
    { config: { permission: 'sessions:revoke' }, schema: { params: sessionParams } },
    async (request) => {
      const { username: target, sessionId } = request.params;
      await audited(identity, request, { action: 'sessions.revoke', target, details: { sessionId } }, now, async () => {
        const user = await identity.users.get(target);
        checkCanManage(request, user.role);
        if (!(await identity.sessions.revokeById(user.id, sessionId, now()))) {
          throw new VigilError('VGL_SESSION_NOT_FOUND', `user '${target}' has no live session '${sessionId}'`);
        }
      });
      return { ok: true };
    },
  );

  scope.get('/api/v1/roles', { config: { permission: 'roles:read' } }, async () => ({
    roles: identity.roles.names().map((name) => ({
      name,
      builtin: identity.roles.builtin(name),
      description: identity.roles.description(name),
      permissions: identity.roles.permissions(name),
    })),
  }));
}
