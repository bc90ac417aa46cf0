import { z } from 'zod';
import { cidr, duration, httpHeaderName } from './schema-parts.js';

/** Traffic protection parts of the config schema: rate limits, concurrency limits, IP filters and bans (docs/protection.md). */

const limitName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be 1-32 characters of a-z, 0-9, _ and -, starting with a letter or digit (it is sent in RateLimit headers)');

const limitKey = z
  .enum(['ip', 'apiKey', 'user', 'route', 'header'])
  .describe(
    'What one counter is shared by: `ip` (the client address; IPv6 grouped by `protection.ipv6Prefix`), `apiKey` (the key ID; a JWT caller’s issuer and subject), `user` (the key’s owner label, else its ID; a JWT caller’s issuer and subject), `route` (everyone on the route) or `header` (the value of `header`). Without a key or user, `apiKey`/`user` fall back to the client address.',
  );

const keyHeader = httpHeaderName
  .optional()
  .describe('The request header whose value keys the counter; required with `by: header` (a missing header counts as one shared empty value).');

const cidrList = (what: string) => z.array(cidr).max(10_000).default([]).describe(what);

export const ipFilter = z
  .strictObject({
    allow: cidrList('Addresses or CIDRs admitted; when the list is not empty, every other address is refused (403).'),
    deny: cidrList('Addresses or CIDRs refused (403). Deny wins over allow.'),
  })
  .prefault({});

const rateLimit = z.strictObject({
  name: limitName.describe('Names the limit in `RateLimit-Policy`/`RateLimit` headers, logs and security events; unique within the route.'),
  by: limitKey,
  header: keyHeader,
  algorithm: z
    .enum(['gcra', 'sliding-window'])
    .default('gcra')
    .describe('`gcra` (token bucket: `limit` per `window` on average, up to `burst` at once; O(1) state per key) or `sliding-window` (never more than `limit` in any `window`; state grows with `limit`, so at most 10000).'),
  limit: z.number().int().min(1).max(1_000_000).describe('Requests admitted per `window`.'),
  window: duration.describe('The period `limit` applies to (100ms to 24h).'),
  burst: z.number().int().min(1).max(1_000_000).optional().describe('`gcra` only: requests admitted at once after an idle period; default `limit`.'),
});

const concurrencyLimit = z.strictObject({
  name: limitName.describe('Names the limit in logs and security events; unique within the route.'),
  by: limitKey,
  header: keyHeader,
  max: z.number().int().min(1).max(1_000_000).describe('Requests in flight at once per key; further ones get 429 until one ends (response finished or client gone).'),
  lease: duration
    .prefault('30s')
    .describe('Redis store only: a slot held by an instance that died is freed after at most this long. Running requests keep their slots however long they take (their instance renews the lease every third of it).'),
});

export const routeRateLimits = z
  .strictObject({
    store: z
      .enum(['memory', 'redis'])
      .default('memory')
      .describe('`memory`: counters in this process. `redis`: counters in `protection.redis`, shared by every gateway instance, so N instances admit the configured total, not N times it.'),
    onStoreFailure: z
      .enum(['local', 'closed'])
      .default('local')
      .describe('When Redis cannot be reached: `local` limits with this process’s own counters until it is back, `closed` refuses requests (503). Either raises a security event.'),
    limits: z.array(rateLimit).max(16).default([]).describe('Request-rate limits; a request must pass all of them. `ip`/`route` limits run before authentication, the others after it.'),
    concurrency: z.array(concurrencyLimit).max(8).default([]).describe('Limits on requests in flight at once, checked after authentication.'),
  })
  .prefault({})
  .describe('Rate and concurrency limits of the route (docs/protection.md).');

/** Limits must be sensible and unambiguous; reported with their YAML path. */
export function checkRouteProtection(
  route: { rateLimits: z.output<typeof routeRateLimits> },
  path: (string | number)[],
  ctx: z.RefinementCtx,
  redisConfigured: boolean,
): void {
  const { limits, concurrency, store } = route.rateLimits;
  const names = new Set<string>();
  const check = (limit: { name: string; by: string; header?: string | undefined }, where: (string | number)[]) => {
    if (names.has(limit.name)) ctx.addIssue({ code: 'custom', path: [...where, 'name'], message: `duplicate limit name '${limit.name}'` });
    names.add(limit.name);
    if ((limit.by === 'header') !== (limit.header !== undefined)) {
      ctx.addIssue({ code: 'custom', path: [...where, 'header'], message: limit.by === 'header' ? 'set `header` with `by: header`' : '`header` is only used with `by: header`' });
    }
  };
  limits.forEach((limit, i) => {
    const where = [...path, 'rateLimits', 'limits', i];
    check(limit, where);
    if (limit.window < 100 || limit.window > 86_400_000) ctx.addIssue({ code: 'custom', path: [...where, 'window'], message: 'window must be between 100ms and 24h' });
    if (limit.algorithm === 'sliding-window' && limit.limit > 10_000) {
      ctx.addIssue({ code: 'custom', path: [...where, 'limit'], message: 'a sliding-window limit keeps one timestamp per request: at most 10000 (use gcra for larger limits)' });
    }
    if (limit.algorithm === 'sliding-window' && limit.burst !== undefined) ctx.addIssue({ code: 'custom', path: [...where, 'burst'], message: '`burst` is only used with `algorithm: gcra`' });
    if (limit.window / limit.limit < 0.001) ctx.addIssue({ code: 'custom', path: [...where, 'limit'], message: 'more than one request per microsecond cannot be counted; lower limit or widen window' });
  });
  concurrency.forEach((limit, i) => {
    const where = [...path, 'rateLimits', 'concurrency', i];
    check(limit, where);
    if (limit.lease < 1000) ctx.addIssue({ code: 'custom', path: [...where, 'lease'], message: 'lease must be at least 1s' });
  });
  if (store === 'redis' && !redisConfigured && (limits.length > 0 || concurrency.length > 0)) {
    ctx.addIssue({ code: 'custom', path: [...path, 'rateLimits', 'store'], message: '`store: redis` needs `protection.redis`' });
  }
}

const redisUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}, 'must be a redis:// or rediss:// URL');

export const protectionSection = z
  .strictObject({
    redis: z
      .strictObject({
        url: redisUrl.describe('Redis shared by the gateway instances, e.g. `redis://127.0.0.1:6379/0`; put a password in the vault and use `${secret:NAME}`.'),
        keyPrefix: z
          .string()
          .regex(/^[A-Za-z0-9:_.{}-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 : _ . { } -')
          .default('vigil:')
          .describe('Prefix of every key and channel Vigil uses, so several deployments can share one Redis.'),
        connectTimeout: duration.prefault('2s').describe('Time to open the Redis connection.'),
        commandTimeout: duration.prefault('250ms').describe('Time a limit check may wait for Redis before the route’s `onStoreFailure` applies.'),
      })
      .optional()
      .describe('Redis for `store: redis` limits and for sharing bans between instances.'),
    ipv6Prefix: z.number().int().min(32).max(128).default(64).describe('IPv6 clients are limited and banned per network of this prefix length (one customer usually holds a whole /64).'),
    rateLimitHeaders: z.boolean().default(true).describe('Send `RateLimit-Policy` and `RateLimit` (IETF draft) on responses of limited routes; `Retry-After` is always sent with a 429.'),
    ipFilter: ipFilter.describe('Allow and deny lists applied to every route before its own `ipFilter`.'),
  })
  .prefault({})
  .describe('Traffic protection shared by all routes (docs/protection.md).');

const eventPattern = z
  .string()
  .regex(/^[a-z0-9_.]{1,64}\*?$|^\*$/, 'must be a security event type such as `auth.key_invalid`, or a prefix ending in `*` such as `auth.*`');

const banScenario = z.strictObject({
  name: limitName.describe('Names the scenario in bans, logs and security events.'),
  events: z.array(eventPattern).min(1).max(64).describe('Security event types that count (e.g. `auth.*`, `ratelimit.exceeded`); `*` counts every type.'),
  minSeverity: z.enum(['low', 'medium', 'high', 'critical']).default('low').describe('Events below this severity do not count.'),
  by: z.enum(['ip', 'identity']).default('ip').describe('Count and ban per client address (`ip`, IPv6 per `protection.ipv6Prefix`) or per identity (user or `key:<id>`).'),
  capacity: z.number().int().min(1).max(100_000).describe('Leaky bucket size: a ban follows when more than `capacity` events are in the bucket.'),
  leak: duration.describe('One event leaks out of the bucket per this duration (the sustained rate that is tolerated).'),
  banFor: duration.describe('Length of the first ban.'),
  maxBanFor: duration.prefault('7d').describe('Each repeat offence multiplies the ban by `factor`, up to this.'),
  factor: z.number().min(1).max(100).default(2).describe('Growth of the ban length per repeat offence.'),
});

export const bansSection = z
  .strictObject({
    allowList: cidrList('Addresses or CIDRs that are never banned, automatically or by hand (monitoring, your own offices).'),
    scenarios: z.array(banScenario).max(64).default([]).describe('Automatic ban rules, fed by security events.'),
    forgetAfter: duration.prefault('30d').describe('A target without a ban for this long starts again at `banFor`.'),
  })
  .prefault({})
  .describe('Automatic and manual bans (docs/protection.md).');

export function checkBans(bans: z.output<typeof bansSection>, ctx: z.RefinementCtx): void {
  const names = new Set<string>();
  bans.scenarios.forEach((scenario, i) => {
    const where = ['bans', 'scenarios', i];
    if (names.has(scenario.name)) ctx.addIssue({ code: 'custom', path: [...where, 'name'], message: `duplicate scenario name '${scenario.name}'` });
    names.add(scenario.name);
    if (scenario.leak < 1) ctx.addIssue({ code: 'custom', path: [...where, 'leak'], message: 'leak must be at least 1ms' });
    if (scenario.banFor < 1000) ctx.addIssue({ code: 'custom', path: [...where, 'banFor'], message: 'banFor must be at least 1s' });
    if (scenario.banFor > scenario.maxBanFor) ctx.addIssue({ code: 'custom', path: [...where, 'banFor'], message: 'banFor must not exceed maxBanFor' });
  });
}
