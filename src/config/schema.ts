import { z } from 'zod';
import { clientAddressHeader, gatewayLimits, trustedProxies } from './gateway-client-schema.js';
import { routeHeaders } from './gateway-headers-schema.js';
import { checkRouteHealth, checkRouteUpstreams, routeHealthCheck, routeTimeouts, routeUpstreams } from './gateway-upstream-schema.js';
import { checkRouteTls, listenerTls, routeUpstreamTls } from './gateway-tls-schema.js';
import { routePii } from './gateway-pii-schema.js';
import { checkIdentityHeaderRules, checkJwtIssuers, gatewayJwt, identityHeaders, routeClaims } from './gateway-auth-schema.js';
import { checkRouteMatch, checkShadowedRoutes, routeMatch } from './gateway-route-match-schema.js';
import { bansSection, checkBans, checkRouteProtection, ipFilter, protectionSection, routeRateLimits } from './protection-schema.js';
import { monitorSection } from './check-schemas.js';
import { tracingSection } from './tracing-schema.js';
import { consoleCsrf, consoleSecurityHeaders, routeCors, routeHygiene, routeSecurityHeaders } from './http-protection-schema.js';
import { duration, httpUrl, name } from './schema-parts.js';
import { alertingDelivery, checkAlertingDelivery } from './alerting-schema.js';
import { alertingRulesFields, checkAlertRules } from './alert-rule-schema.js';
import { BUILTIN_ROLE_NAMES, PERMISSIONS } from '../identity/rbac.js';
import { PII_KINDS } from '../pii/detectors.js';

/**
 * The one configuration schema. Types, defaults, validation and docs/configuration.md all come
 * from here. Every object is strict: an unknown key is an error, never silently ignored.
 */

const port = z.number().int().min(0).max(65535);

const listen = (defaultPort: number) =>
  z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1').describe('Address to bind. Loopback by default; set 0.0.0.0 or :: deliberately.'),
      port: port.default(defaultPort).describe('TCP port; 0 picks a free one.'),
    })
    .prefault({});

const scope = z.string().regex(/^[a-z0-9][a-z0-9:_.*-]{0,63}$/, 'a scope is 1-64 characters of a-z, 0-9 and : _ . * -');

const route = z.strictObject({
  name: name('route name').describe('Identifies the route in metrics, logs and access records.'),
  ...routeMatch,
  upstream: httpUrl.optional().describe('Base URL requests are forwarded to; its path is prepended to the forwarded path. Or use `upstreams.targets`.'),
  upstreams: routeUpstreams,
  upstreamTls: routeUpstreamTls,
  healthCheck: routeHealthCheck,
  auth: z
    .enum(['apiKey', 'jwt', 'either', 'none'])
    .default('apiKey')
    .describe('`apiKey` requires a valid Vigil API key; `jwt` a valid JWT from a trusted issuer (`gateway.jwt`); `either` accepts both; `none` admits anyone.'),
  scopes: z.array(scope).default([]).describe("Scopes the caller must hold (all of them): an API key's scopes, or a JWT's scope claim."),
  roles: z.array(z.string().min(1).max(200)).default([]).describe("JWT callers: the token's roles claim must hold at least one of these. Key callers cannot satisfy it and get 403."),
  claims: routeClaims,
  jwtIssuers: z.array(z.string()).default([]).describe("Issuers (by name, `vigil` for Vigil's own) whose JWTs this route accepts; empty: every trusted issuer."),
  forwardCredential: z
    .boolean()
    .default(false)
    .describe('Forward the caller\'s `Authorization` and `x-api-key` headers upstream. Off: on authenticated routes they stay at the gateway.'),
  timeouts: routeTimeouts,
  headers: routeHeaders,
  maxBodyBytes: z.number().int().min(0).optional().describe('Largest request body (bytes) for this route; default `gateway.limits.maxBodyBytes`. 0 means no limit.'),
  pii: routePii,
  rateLimits: routeRateLimits,
  ipFilter: ipFilter.describe('Allow and deny lists of this route, applied after `protection.ipFilter`.'),
  securityHeaders: routeSecurityHeaders,
  cors: routeCors,
  hygiene: routeHygiene,
});

const customRole = z.strictObject({
  name: name('role name').describe('Role name used by `vigil users set-role`; must not be a built-in role.'),
  description: z.string().max(200).optional().describe('What the role is for, shown by the roles API.'),
  inherits: name('role name').optional().describe('A built-in or earlier custom role whose permissions this one includes.'),
  permissions: z.array(z.enum(PERMISSIONS)).default([]).describe('Permissions added on top of `inherits` (see docs/identity.md).'),
});

const identitySection = z
  .strictObject({
    roles: z.array(customRole).default([]).describe('Custom roles, in addition to the seven built-in ones.'),
    passwords: z
      .strictObject({
        minLength: z.number().int().min(8).max(64).default(12).describe('Shortest password accepted (characters); the longest is always 128.'),
        minScore: z.number().int().min(1).max(4).default(3).describe('Lowest zxcvbn strength score (0-4) accepted; 3 rejects common and guessable passwords.'),
      })
      .prefault({}),
    lockout: z
      .strictObject({
        maxFailures: z.number().int().min(1).max(100).default(5).describe('Failed logins for one account within `window` before it is locked.'),
        window: duration.prefault('15m').describe('How far back failures are counted.'),
        baseLock: duration.prefault('1m').describe('Length of the first lock; each repeat within `window` doubles it.'),
        maxLock: duration.prefault('1h').describe('Longest lock, however often it repeats.'),
        ipMaxFailures: z.number().int().min(1).max(10_000).default(20).describe('Failed logins from one source IP (any account) within `window` before that IP is locked.'),
      })
      .prefault({}),
    tokens: z
      .strictObject({
        issuer: z.string().min(1).max(200).default('vigil').describe('`iss` of the JWTs Vigil issues, and the only issuer its own tokens are accepted from.'),
        audience: z.string().min(1).max(200).default('vigil-console').describe('`aud` of the JWTs Vigil issues, and the only audience accepted.'),
        accessTtl: duration.prefault('15m').describe('Lifetime of an access token.'),
        refreshTtl: duration.prefault('7d').describe('Lifetime of a refresh token; each use rotates it.'),
        algorithm: z.enum(['EdDSA', 'ES256']).default('EdDSA').describe('Signing algorithm of new keys: Ed25519 or P-256.'),
        keyRotation: duration.prefault('30d').describe('A new signing key is made this often; old keys verify until their tokens expire.'),
      })
      .prefault({}),
    mfa: z
      .strictObject({
        requiredRoles: z
          .array(name('role name'))
          .default(['owner', 'admin', 'security-admin'])
          .describe('Roles whose users must enrol TOTP before they can use the admin API (they may only enrol until then).'),
        issuer: z.string().min(1).max(64).default('Vigil').describe('Issuer shown by authenticator apps next to the account.'),
      })
      .prefault({}),
    sessions: z
      .strictObject({
        idleTimeout: duration.prefault('30m').describe('A console session unused this long ends.'),
        absoluteTimeout: duration.prefault('12h').describe('A console session ends this long after login, however active.'),
      })
      .prefault({}),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    gateway: z
      .strictObject({
        listen: listen(8080),
        maxHeaderBytes: z.number().int().min(1024).max(1_048_576).default(16_384).describe('Largest request header block accepted (431 beyond).'),
        limits: gatewayLimits,
        trustedProxies,
        clientAddressHeader,
        tls: listenerTls,
        jwt: gatewayJwt,
        identityHeaders,
        routes: z.array(route).default([]).describe('Routes, matched by host, path and method (precedence in docs/gateway.md).'),
      })
      .prefault({}),
    console: z
      .strictObject({
        listen: listen(9090).describe('Admin listener: /metrics, /livez, /readyz, /healthz. Keep it on loopback.'),
        securityHeaders: consoleSecurityHeaders,
        csrf: consoleCsrf,
      })
      .prefault({}),
    store: z
      .strictObject({
        driver: z.literal('sqlite').default('sqlite').describe('Embedded SQLite (WAL). PostgreSQL comes with cluster mode.'),
        dataDir: z.string().min(1).optional().describe('Data directory (mode 0700). Default: $VIGIL_DATA_DIR, else ./vigil-data.'),
        accessRetention: duration
          .prefault('30d')
          .describe('Gateway access records older than this are deleted, a few thousand rows at a time every minute so the store never stalls; `0s` keeps them forever.'),
      })
      .prefault({}),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Lowest level written.'),
        format: z.enum(['auto', 'json', 'pretty']).default('auto').describe('`auto` is pretty on a terminal, JSON otherwise.'),
        redact: z.array(z.string().min(1)).default([]).describe('Extra log field paths to redact, in pino path syntax.'),
        accessLog: z.boolean().default(true).describe('One log line per gateway request.'),
        maskPii: z
          .array(z.enum(PII_KINDS))
          .default(['email', 'card', 'iban', 'national_id', 'api_key', 'bearer'])
          .describe('PII kinds masked in every log line (`[EMAIL]`, `[CARD]`…); add `phone` and `ip` to mask those too, `[]` to turn masking off.'),
      })
      .prefault({}),
    tracing: tracingSection,
    monitor: monitorSection,
    alerting: z
      .strictObject({
        ...alertingRulesFields,
        ...alertingDelivery,
      })
      .prefault({}),
    vault: z
      .strictObject({
        masterKeyFile: z
          .string()
          .min(1)
          .optional()
          .describe('Master key file (32 bytes, base64; mode 0600, refused if group/world-readable). Default: `<dataDir>/master.key`, generated on first start. VIGIL_MASTER_KEY overrides it.'),
      })
      .prefault({}),
    audit: z
      .strictObject({
        failClosed: z.boolean().default(true).describe('Refuse a security-relevant action when its audit entry cannot be written.'),
        checkpointEvery: z.number().int().min(1).max(100_000).default(100).describe('Write a signed checkpoint after this many audit entries.'),
      })
      .prefault({}),
    identity: identitySection,
    protection: protectionSection,
    bans: bansSection,
    shutdown: z
      .strictObject({
        timeout: duration.prefault('10s').describe('Longest graceful drain on SIGTERM/SIGINT before connections are cut.'),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    unique(config.gateway.routes.map((r) => r.name), ['gateway', 'routes'], 'route name', ctx);
    checkShadowedRoutes(config.gateway.routes, ctx);
    config.gateway.routes.forEach((route, i) => checkRouteMatch(route, ['gateway', 'routes', i], ctx));
    config.gateway.routes.forEach((route, i) => checkRouteHealth(route, ['gateway', 'routes', i], ctx));
    config.gateway.routes.forEach((route, i) => checkRouteUpstreams(route, ['gateway', 'routes', i], ctx));
    config.gateway.routes.forEach((route, i) => checkRouteTls(route, ['gateway', 'routes', i], ctx));
    config.gateway.routes.forEach((route, i) => checkRouteProtection(route, ['gateway', 'routes', i], ctx, config.protection.redis !== undefined));
    checkBans(config.bans, ctx);
    unique(config.monitor.checks.map((c) => c.name), ['monitor', 'checks'], 'check name', ctx);
    unique(config.alerting.rules.map((r) => r.name), ['alerting', 'rules'], 'rule name', ctx);
    unique(config.alerting.receivers.map((r) => r.name), ['alerting', 'receivers'], 'receiver name', ctx);
    checkIdentity(config.identity, ctx);
    checkJwtIssuers(config.gateway.jwt, config.identity.tokens.issuer, config.gateway.routes, ctx);
    checkIdentityHeaderRules(config.gateway.identityHeaders, config.gateway.routes, ctx);
    checkAlertingDelivery(config.alerting, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
    const receivers = new Set(config.alerting.receivers.map((r) => r.name));
    config.monitor.checks.forEach((check, i) => {
      if (check.timeout > check.interval) {
        ctx.addIssue({ code: 'custom', path: ['monitor', 'checks', i, 'timeout'], message: 'timeout must not exceed interval' });
      }
    });
    checkAlertRules(
      config.alerting.rules,
      {
        checks: new Map(config.monitor.checks.map((c) => [c.name, c.type])),
        receivers,
        routes: new Map(config.gateway.routes.map((r) => [r.name, r.upstreams.targets.some((t) => t.fallback)])),
      },
      ctx,
    );
  });

function checkIdentity(identity: z.output<typeof identitySection>, ctx: z.RefinementCtx): void {
  const known = new Set<string>(BUILTIN_ROLE_NAMES);
  identity.roles.forEach((role, i) => {
    const path = ['identity', 'roles', i];
    if ((BUILTIN_ROLE_NAMES as readonly string[]).includes(role.name)) ctx.addIssue({ code: 'custom', path: [...path, 'name'], message: `'${role.name}' is a built-in role` });
    else if (known.has(role.name)) ctx.addIssue({ code: 'custom', path: [...path, 'name'], message: `duplicate role name '${role.name}'` });
    if (role.inherits !== undefined && !known.has(role.inherits)) {
      ctx.addIssue({ code: 'custom', path: [...path, 'inherits'], message: `no built-in or earlier custom role named '${role.inherits}'` });
    }
    known.add(role.name);
  });
  if (identity.lockout.baseLock > identity.lockout.maxLock) {
    ctx.addIssue({ code: 'custom', path: ['identity', 'lockout', 'baseLock'], message: 'baseLock must not exceed maxLock' });
  }
  if (identity.sessions.idleTimeout > identity.sessions.absoluteTimeout) {
    ctx.addIssue({ code: 'custom', path: ['identity', 'sessions', 'idleTimeout'], message: 'idleTimeout must not exceed absoluteTimeout' });
  }
}

function unique(values: string[], path: (string | number)[], what: string, ctx: z.RefinementCtx, field = 'name'): void {
  const seen = new Set<string>();
  values.forEach((value, i) => {
    if (seen.has(value)) ctx.addIssue({ code: 'custom', path: [...path, i, field], message: `duplicate ${what} '${value}'` });
    seen.add(value);
  });
}

export type VigilConfig = z.output<typeof configSchema>;
export type RouteConfig = VigilConfig['gateway']['routes'][number];
export type CheckConfig = VigilConfig['monitor']['checks'][number];
export type HttpCheckConfig = Extract<CheckConfig, { type: 'http' }>;
export type RuleConfig = VigilConfig['alerting']['rules'][number];
export type IdentityConfig = VigilConfig['identity'];
export type ReceiverConfig = VigilConfig['alerting']['receivers'][number];
export type { InhibitRuleConfig, MaintenanceWindowConfig, RouteNodeConfig } from './alerting-schema.js';
