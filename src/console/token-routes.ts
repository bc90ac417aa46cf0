import type { FastifyInstance } from 'fastify';
import type { Identity } from '../identity/index.js';
import { accountSubject } from '../identity/lockout.js';
import { audited } from './admin-errors.js';
import { checkSecondFactor } from './mfa-routes.js';

const credentials = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password'],
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 64 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
    code: { type: 'string', minLength: 1, maxLength: 32 },
  },
} as const;

/** JWTs for API clients: a token pair for a password login, rotation of the pair, and the public keys. */
export function registerTokenRoutes(scope: FastifyInstance, identity: Identity, now: () => number): void {
  scope.post<{ Body: { username: string; password: string; code?: string } }>(
    '/api/v1/auth/token',
    { config: { permission: 'public' }, schema: { body: credentials } },
    async (request) => {
      const { username, password } = request.body;
      // The same login as the console's: lockout, enumeration resistance and security events included.
      return audited(identity, request, { action: 'users.token', target: username }, now, async () => {
        const user = await identity.login.login({ username, password, sourceIp: request.ip, requestId: request.id, now: now() });
        if (await identity.mfa.enabled(user.id)) await checkSecondFactor(identity, user, request.body.code, request, now());
        await identity.throttle.recordSuccess(accountSubject(user.username));
        return identity.tokens.issue(user, now());
      });
    },
  );

  scope.post<{ Body: { refreshToken: string } }>(
    '/api/v1/auth/refresh',
    {
      config: { permission: 'public' },
      schema: { body: { type: 'object', additionalProperties: false, required: ['refreshToken'], properties: { refreshToken: { type: 'string', minLength: 1, maxLength: 8192 } } } },
    },
    async (request) => {
      const { pair } = await audited(identity, request, { action: 'users.refresh', target: '' }, now, () =>
        identity.tokens.refresh(request.body.refreshToken, now(), { sourceIp: request.ip, requestId: request.id }),
      );
      return pair;
    },
  );

  // Not under /api/: the well-known location other services fetch to verify Vigil's tokens.
  scope.get('/.well-known/jwks.json', async () => {
    return identity.signingKeys.jwks();
  });
}
