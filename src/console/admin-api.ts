import type { FastifyInstance } from 'fastify';
import type { Identity } from '../identity/index.js';
import { installAdminErrors } from './admin-errors.js';
import { registerAuthRoutes } from './auth-routes.js';
import { registerKeyRoutes } from './keys-routes.js';
import { registerMfaRoutes } from './mfa-routes.js';
import { registerTokenRoutes } from './token-routes.js';
import { registerUserRoutes } from './users-routes.js';
import { registerSecurityEventRoutes } from './security-events-routes.js';

/** The identity part of the admin API, in its own scope so its error handler covers only these routes. */
export function registerIdentityApi(app: FastifyInstance, identity: Identity, now: () => number): void {
  void app.register(async (scope) => {
    installAdminErrors(scope);
    registerAuthRoutes(scope, identity, now);
    registerUserRoutes(scope, identity, now);
    registerSecurityEventRoutes(scope, identity.store.securityEvents);
    registerKeyRoutes(scope, identity, now);
    registerTokenRoutes(scope, identity, now);
    registerMfaRoutes(scope, identity, now);
  });
}
