import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Clock } from '../core/clock.js';
import { VigilError } from '../core/errors.js';
import type { VigilConfig } from '../config/schema.js';
import type { GatewayContext, Stage } from '../gateway/context.js';
import type { CompiledRoute } from '../gateway/router.js';
import { addResponseHeader } from '../gateway/headers.js';
import type { SecurityEventRecorder } from '../identity/security-events.js';
import type { SecuritySeverity } from '../store/records.js';
import type { Logger } from '../telemetry/logger.js';
import { addressGroup, IpFilter } from './ip-filter.js';
import type { ConcurrencySpec, Decision, LimitSpec } from './rate-limit.js';
import { MemoryLimiterStore } from './rate-limit.js';
import type { LimitRedis } from './rate-limit-redis.js';
import { defineLimitCommands, RedisLimiterStore } from './rate-limit-redis.js';

/**
 * The gateway's traffic protection: IP filters and bans at the very first stage, limits keyed by
 * address before authentication, limits keyed by key, user or header and concurrency limits after
 * it. One instance lives as long as the gateway, so counters survive route reloads.
 */

export interface ProtectionDeps {
  logger: Logger;
  clock: Clock;
  securityEvents: SecurityEventRecorder;
}

/** What the ban list answers at the gateway's first stage and after authentication. */
export interface BanCheck {
  /** The active ban covering this address (its IPv6 network included), if any. */
  bannedAddress(ip: string): { target: string; expiresAt: number } | undefined;
  bannedIdentity(identity: string): { target: string; expiresAt: number } | undefined;
  /** True when the address may never be banned (`bans.allowList`). */
  allowListed(ip: string): boolean;
}

/** The protection stages of one route, at their three places in the pipeline. */
export interface RouteProtection {
  readonly entry: Stage[];
  readonly preAuth: Stage[];
  readonly postAuth: Stage[];
}

type RouteLimits = CompiledRoute['config']['rateLimits'];
type LimitConfig = RouteLimits['limits'][number];
type By = LimitConfig['by'];

/** Parts derived from the whole config, shared by all its routes. */
interface Shared {
  readonly filter: IpFilter;
  readonly ipv6Prefix: number;
  readonly headers: boolean;
}

const SAFE_KEY = /^[\x21-\x7e]{0,64}$/;

/** The identity a security event names, as authentication's own events do: `key:<id>` or `<issuer>:<sub>`. */
function identityOf(ctx: GatewayContext): string | null {
  const caller = ctx.caller;
  if (!caller) return ctx.key ? `key:${ctx.key.id}` : null;
  return caller.keyId !== null ? `key:${caller.keyId}` : `${caller.issuer ?? 'jwt'}:${caller.subject}`;
}

export class TrafficProtection {
  private readonly memory: MemoryLimiterStore;
  private readonly redis: LimitRedis | undefined;
  private readonly redisStore: RedisLimiterStore | undefined;
  private readonly shared = new WeakMap<VigilConfig, Shared>();
  /** Redis outage: routes that already raised their security event for the current outage. */
  private storeDown = false;
  private readonly outageReported = new Set<string>();

  constructor(
    config: VigilConfig,
    private readonly deps: ProtectionDeps,
    private bans: BanCheck | undefined = undefined,
  ) {
    this.memory = new MemoryLimiterStore(deps.clock);
    const redis = config.protection.redis;
    if (redis) {
      const client = new Redis(redis.url, {
        lazyConnect: true,
        // Fail at once while disconnected (the route's onStoreFailure applies) instead of queueing.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: redis.connectTimeout,
        commandTimeout: redis.commandTimeout,
        retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      });
      client.on('error', (err: Error) => this.markDown('(connection)', err, null));
      client.on('ready', () => this.markUp());
      this.redis = defineLimitCommands(client);
      this.redisStore = new RedisLimiterStore(this.redis, redis.keyPrefix);
    }
  }

  /** Checks bans at the first stage and after authentication; set before the gateway compiles its routes. */
  useBans(bans: BanCheck): void {
    this.bans = bans;
  }

  /** The Redis connection (for sharing bans), when `protection.redis` is set. */
  get redisClient(): Redis | undefined {
    return this.redis;
  }

  /** Connects to Redis, waiting up to its connect timeout; limits fall back meanwhile if it is not there. */
  async start(): Promise<void> {
    if (!this.redis) return;
    try {
      await this.redis.connect();
    } catch (err) {
      this.markDown('(start)', err, null);
    }
  }

  async stop(): Promise<void> {
    if (!this.redis) return;
    this.redis.removeAllListeners('error');
    this.redis.on('error', () => undefined);
    this.redis.disconnect();
    await Promise.resolve();
  }

  compile(route: CompiledRoute, config: VigilConfig): RouteProtection {
    const shared = this.sharedOf(config);
    const { rateLimits, ipFilter } = route.config;
    const routeFilter = new IpFilter(ipFilter);
    const entry: Stage[] = [];
    if (!shared.filter.empty || !routeFilter.empty || this.bans) entry.push(this.entryStage(route.name, shared, routeFilter));
    const preAuth: Stage[] = [];
    const postAuth: Stage[] = [];
    const early = rateLimits.limits.filter((l) => l.by === 'ip' || l.by === 'route');
    const late = rateLimits.limits.filter((l) => l.by !== 'ip' && l.by !== 'route');
    if (early.length > 0) preAuth.push(this.limitStage(route.name, rateLimits, early, shared));
    if (this.bans) postAuth.push(this.identityBanStage(route.name));
    if (late.length > 0) postAuth.push(this.limitStage(route.name, rateLimits, late, shared));
    if (rateLimits.concurrency.length > 0) postAuth.push(this.concurrencyStage(route.name, rateLimits, shared));
    return { entry, preAuth, postAuth };
  }

  private sharedOf(config: VigilConfig): Shared {
    let shared = this.shared.get(config);
    if (!shared) {
      shared = {
        filter: new IpFilter(config.protection.ipFilter),
        ipv6Prefix: config.protection.ipv6Prefix,
        headers: config.protection.rateLimitHeaders,
      };
      this.shared.set(config, shared);
    }
    return shared;
  }

  /**
   * The security event of a refused request; `distinct` tells rejections of one type apart (the
   * limit's name). Coalesced by the recorder: a flood is stored about once a second per address,
   * route and kind, while ban scenarios and the metric still count every one.
   */
  private event(ctx: GatewayContext, route: string, type: string, severity: SecuritySeverity, details: Record<string, unknown>, sourceIp: string | null, distinct = ''): void {
    this.deps.securityEvents.reject(`${type}|${sourceIp ?? ''}|${route}|${distinct}`, {
      at: this.deps.clock.now(),
      type,
      severity,
      sourceIp,
      identity: identityOf(ctx),
      correlationId: ctx.requestId,
      route,
      details: { route, ...details },
    });
  }

  /** Stage 1: global and route IP filters, then the address ban list. */
  private entryStage(route: string, shared: Shared, routeFilter: IpFilter): Stage {
    const bans = this.bans;
    return (ctx) => {
      const ip = ctx.clientIp;
      const refusal = shared.filter.refusal(ip) ?? routeFilter.refusal(ip);
      if (refusal) {
        this.event(ctx, route, 'ipfilter.denied', 'medium', { list: refusal === 'deny' ? 'deny' : 'not-allowed' }, ip);
        throw new VigilError('VGL_IP_DENIED', refusal === 'deny' ? 'the client address is on a deny list' : 'the client address is not on the allow list');
      }
      const ban = bans?.bannedAddress(ip);
      if (ban) this.refuseBanned(ctx, route, ban, ip);
    };
  }

  private identityBanStage(route: string): Stage {
    const bans = this.bans as BanCheck;
    return (ctx) => {
      const identity = identityOf(ctx);
      const subject = ctx.caller?.subject;
      const ban = (identity === null ? undefined : bans.bannedIdentity(identity)) ?? (subject ? bans.bannedIdentity(subject) : undefined);
      if (ban) this.refuseBanned(ctx, route, ban, ctx.clientIp);
    };
  }

  private refuseBanned(ctx: GatewayContext, route: string, ban: { target: string; expiresAt: number }, ip: string): never {
    const seconds = Math.max(1, Math.ceil((ban.expiresAt - this.deps.clock.now()) / 1000));
    ctx.res.setHeader('retry-after', String(seconds));
    this.event(ctx, route, 'ban.rejected', 'low', { target: ban.target }, ip, ban.target);
    throw new VigilError('VGL_BANNED', `banned for another ${seconds}s`);
  }

  private keyOf(by: By, header: string | undefined, shared: Shared): (ctx: GatewayContext) => string {
    const address = (ctx: GatewayContext) => `ip:${addressGroup(ctx.clientIp, shared.ipv6Prefix)}`;
    switch (by) {
      case 'ip':
        return address;
      case 'route':
        return () => 'route';
      case 'apiKey':
        return (ctx) => {
          const identity = identityOf(ctx);
          return identity === null ? address(ctx) : `id:${safeKey(identity)}`;
        };
      case 'user':
        return (ctx) => (ctx.caller ? `user:${safeKey(ctx.caller.keyId === null ? `${ctx.caller.issuer ?? 'jwt'}:${ctx.caller.subject}` : ctx.caller.subject)}` : address(ctx));
      case 'header':
        return (ctx) => {
          const value = ctx.req.headers[header as string];
          return `h:${safeKey(Array.isArray(value) ? value.join(',') : (value ?? ''))}`;
        };
    }
  }

  private limitStage(route: string, config: RouteLimits, limits: readonly LimitConfig[], shared: Shared): Stage {
    const specs: LimitSpec[] = limits.map((l) => {
      const burst = l.algorithm === 'gcra' ? (l.burst ?? l.limit) : l.limit;
      return { id: `${route}:${l.name}:${l.algorithm === 'gcra' ? 'g' : 'w'}${l.limit}/${l.window}b${burst}`, name: l.name, algorithm: l.algorithm, limit: l.limit, windowMs: l.window, burst };
    });
    const keyFns = limits.map((l) => this.keyOf(l.by, l.header, shared));
    const policy = specs.map((s) => `"${s.name}";q=${s.algorithm === 'gcra' ? s.burst : s.limit};w=${Math.max(1, Math.round(s.windowMs / 1000))}`).join(', ');
    const useRedis = config.store === 'redis' && this.redisStore !== undefined;
    const apply = (ctx: GatewayContext, decision: Decision): void => {
      if (shared.headers) this.setRateHeaders(ctx, policy, specs, decision);
      if (decision.allowed) return;
      const spec = specs[decision.refusedBy] as LimitSpec;
      const state = decision.states[decision.refusedBy];
      ctx.res.setHeader('retry-after', String(Math.max(1, Math.ceil((state?.retryAfterMs ?? 0) / 1000))));
      this.event(ctx, route, 'ratelimit.exceeded', 'medium', { limit: spec.name, by: limits[decision.refusedBy]?.by }, ctx.clientIp, spec.name);
      throw new VigilError('VGL_RATE_LIMITED', `rate limit '${spec.name}' exceeded (${spec.limit} per ${spec.windowMs}ms)`);
    };
    return (ctx) => {
      const keys = keyFns.map((fn) => fn(ctx));
      if (!useRedis) {
        apply(ctx, this.memory.consume(specs, keys));
        return;
      }
      return this.viaRedis(ctx, route, config.onStoreFailure, (store) => store.consume(specs, keys), () => this.memory.consume(specs, keys)).then((d) => apply(ctx, d));
    };
  }

  private concurrencyStage(route: string, config: RouteLimits, shared: Shared): Stage {
    const limits = config.concurrency;
    const specs: ConcurrencySpec[] = limits.map((l) => ({ id: `${route}:${l.name}:c${l.max}`, name: l.name, max: l.max, leaseMs: l.lease }));
    const keyFns = limits.map((l) => this.keyOf(l.by, l.header, shared));
    const useRedis = config.store === 'redis' && this.redisStore !== undefined;
    const refuse = (ctx: GatewayContext, index: number): never => {
      const spec = specs[index] as ConcurrencySpec;
      ctx.res.setHeader('retry-after', '1');
      this.event(ctx, route, 'ratelimit.concurrency_exceeded', 'medium', { limit: spec.name, by: limits[index]?.by, max: spec.max }, ctx.clientIp, spec.name);
      throw new VigilError('VGL_CONCURRENCY_LIMITED', `concurrency limit '${spec.name}' reached (${spec.max} in flight)`);
    };
    return async (ctx) => {
      const held: (() => void)[] = [];
      const releaseAll = () => {
        for (const release of held) release();
      };
      for (let i = 0; i < specs.length; i++) {
        const spec = specs[i] as ConcurrencySpec;
        const key = (keyFns[i] as (ctx: GatewayContext) => string)(ctx);
        const release = useRedis
          ? await this.viaRedis(ctx, route, config.onStoreFailure, (store) => store.acquire(spec, key), () => this.memory.acquire(spec, key))
          : this.memory.acquire(spec, key);
        if (!release) {
          releaseAll();
          refuse(ctx, i);
        }
        held.push(release as () => void);
      }
      // Released when the response ends, fails, or the client goes away, whichever comes first.
      if (ctx.res.writableFinished || ctx.res.destroyed) releaseAll();
      else ctx.res.once('close', releaseAll);
    };
  }

  /** Runs a Redis operation, or the route's failure mode when Redis is down: local counters, or 503. */
  private async viaRedis<T>(ctx: GatewayContext, route: string, onFailure: 'local' | 'closed', remote: (store: RedisLimiterStore) => Promise<T>, local: () => T): Promise<T> {
    const store = this.redisStore as RedisLimiterStore;
    if (store.ready) {
      try {
        return await remote(store);
      } catch (err) {
        this.markDown(route, err, ctx);
      }
    } else {
      this.markDown(route, new Error('not connected'), ctx);
    }
    if (onFailure === 'local') return local();
    this.event(ctx, route, 'ratelimit.failed_closed', 'low', {}, ctx.clientIp);
    throw new VigilError('VGL_RATE_LIMIT_STORE_UNAVAILABLE', 'the rate limit store is unreachable and this route fails closed');
  }

  /** One log line and one security event per route per outage, however many requests hit it. */
  private markDown(route: string, err: unknown, ctx: GatewayContext | null): void {
    if (!this.storeDown) this.deps.logger.warn({ err, code: 'VGL_RATE_LIMIT_STORE_UNAVAILABLE' }, 'rate limit store (Redis) unreachable; routes use their onStoreFailure mode');
    this.storeDown = true;
    if (ctx === null || this.outageReported.has(route)) return;
    this.outageReported.add(route);
    this.event(ctx, route, 'ratelimit.store_unavailable', 'high', { error: err instanceof Error ? err.message : String(err) }, null);
  }

  private markUp(): void {
    if (!this.storeDown) return;
    this.storeDown = false;
    const routes = [...this.outageReported];
    this.outageReported.clear();
    this.deps.logger.info({ routes }, 'rate limit store (Redis) reachable again; routes count in Redis');
    void this.deps.securityEvents.record({ at: this.deps.clock.now(), type: 'ratelimit.store_recovered', severity: 'low', sourceIp: null, identity: null, correlationId: null, details: { routes } });
  }

  /** `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers), one item per limit checked so far. */
  private setRateHeaders(ctx: GatewayContext, policy: string, specs: readonly LimitSpec[], decision: Decision): void {
    let state = '';
    decision.states.forEach((s, i) => {
      state += `${i === 0 ? '' : ', '}"${(specs[i] as LimitSpec).name}";r=${Math.max(0, s.remaining)};t=${Math.max(0, Math.ceil(s.resetMs / 1000))}`;
    });
    addResponseHeader(ctx, 'ratelimit-policy', policy);
    addResponseHeader(ctx, 'ratelimit', state);
  }
}

/** A key part that is short and printable as is, else its hash (header values may be long or binary). */
function safeKey(value: string): string {
  return SAFE_KEY.test(value) ? value : `#${createHash('sha256').update(value).digest('base64url').slice(0, 22)}`;
}
