import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { VigilConfig } from '../config/schema.js';
import { VigilError } from '../core/errors.js';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../telemetry/logger.js';
import { registerHealthRoutes } from './health.js';
import { compileSecurityHeaders } from '../protection/headers.js';
import { CsrfTokens, installCsrf } from '../protection/csrf.js';
import type { Identity } from '../identity/index.js';
import { installAdminAuth } from './admin-auth.js';
import type { ApiRoute } from './admin-auth.js';
import { registerIdentityApi } from './admin-api.js';
import type { HealthSource } from './health.js';
import { closeBodySchema, CONSOLE_AJV, formatSchemaErrors } from './validation.js';

export interface ConsoleDeps {
  config: VigilConfig;
  logger: Logger;
  registry: Registry;
  /** Serves `/readyz` and `/healthz` when given. */
  health?: HealthSource;
  /** Users, sessions and roles for the admin API; without it every protected /api/ route answers 401. */
  identity?: Identity;
  now?: () => number;
  /** Key of the console's CSRF tokens (deriveCsrfKey); with `identity`, cookie sessions need the token to change anything. */
  csrfKey?: Buffer;
}

/** The admin listener (loopback by default): metrics and health now; the admin API and web console later. */
export class ConsoleServer implements Component {
  readonly name = 'console';
  readonly app: FastifyInstance;
  /** Every /api/ route registered, with the permission it declares (read by the RBAC matrix test). */
  readonly apiRoutes: readonly ApiRoute[];

  constructor(private readonly deps: ConsoleDeps) {
    this.app = Fastify({
      loggerInstance: deps.logger.child({ component: 'console' }) as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: 1_048_576,
      // Unknown fields are refused with a 400 naming them, never silently dropped (see validation.ts).
      ajv: CONSOLE_AJV,
      schemaErrorFormatter: formatSchemaErrors,
    });
    this.app.addHook('onRoute', closeBodySchema);
    const now = deps.now ?? Date.now;
    // Before any route is registered, so that the guard sees every /api/ route, whoever adds it.
    this.apiRoutes = installAdminAuth(this.app, deps.identity, now);
    const { csrf } = deps.config.console;
    if (deps.identity && deps.csrfKey && csrf.enabled) installCsrf(this.app, new CsrfTokens(deps.csrfKey, csrf.maxAge), deps.identity.events, now);
    if (deps.identity) registerIdentityApi(this.app, deps.identity, now);
    const securityHeaders = compileSecurityHeaders(deps.config.console.securityHeaders);
    this.app.addHook('onSend', async (_req, reply) => {
      reply.header('cache-control', 'no-store');
      // The console has no TLS listener of its own, so no HSTS; a route's own value is kept unless overridden.
      if (!securityHeaders) return;
      const { override } = securityHeaders;
      for (const [name, value] of securityHeaders.plain) {
        if (!reply.hasHeader(name) || override === true || (override !== false && override.has(name))) reply.header(name, value);
      }
      for (const name of securityHeaders.remove) reply.removeHeader(name);
    });
    this.app.get('/metrics', async (_req, reply) => {
      reply.header('content-type', deps.registry.contentType);
      return deps.registry.metrics();
    });
    this.app.get('/livez', async () => ({ status: 'ok' }));
    if (deps.health) registerHealthRoutes(this.app, deps.health);
  }

  address(): AddressInfo {
    return this.app.server.address() as AddressInfo;
  }

  async start(): Promise<void> {
    const { host, port } = this.deps.config.console.listen;
    try {
      await this.app.listen({ host, port });
    } catch (err) {
      throw new VigilError('VGL_LISTEN_FAILED', `console cannot listen on ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  }

  async stop(): Promise<void> {
    await this.app.close();
  }
}
