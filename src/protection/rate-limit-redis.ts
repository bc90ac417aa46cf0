import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Decision, LimitSpec, LimitState, ConcurrencySpec, LimiterStore } from './rate-limit.js';
import { gcraParams } from './rate-limit.js';

/**
 * Limits counted in Redis, shared by every gateway instance. The checks of the requests that reach
 * the limit stage in one event-loop turn go to Redis together, as one EVALSHA of a Lua script
 * (ioredis defineCommand) that checks and counts each request in turn, so every request's check
 * and count are atomic across instances while the client's per-command cost is paid once per
 * turn, not once per request (bench/README.md, limiter cost). Time comes from Redis (`TIME`), so
 * instances with skewed clocks still agree. Arithmetic is in integer microseconds, the same as the
 * memory store's.
 */

/**
 * A batch of requests. ARGV[1]: the number of requests; then per request: its number of limits n,
 * a unique member, and per limit: kind (`g` GCRA, `w` sliding window), a (GCRA emission interval /
 * window, µs), b (GCRA tolerance µs / window limit). KEYS: the counters of every request's limits,
 * in the same order. Returns, per request in order: allowed (1/0), the index of its first refusing
 * limit (0 when allowed), then per limit remaining, reset µs, retry-after µs. A request's limits
 * count nothing unless all of them admit it.
 */
const CONSUME = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {}
local k = 0
local p = 1
for r = 1, tonumber(ARGV[1]) do
  local n = tonumber(ARGV[p + 1])
  local member = ARGV[p + 2]
  p = p + 2
  local head = #out + 1
  out[head] = 1
  out[head + 1] = 0
  local commits, kinds, as = {}, {}, {}
  for i = 1, n do
    local key = KEYS[k + i]
    local kind = ARGV[p + 1]
    local a = tonumber(ARGV[p + 2])
    local b = tonumber(ARGV[p + 3])
    p = p + 3
    kinds[i] = kind
    as[i] = a
    local remaining, reset, retry = 0, 0, 0
    if kind == 'g' then
      local tat = tonumber(redis.call('GET', key) or now)
      if tat < now then tat = now end
      local nxt = tat + a
      local diff = nxt - now
      if diff <= b then
        remaining = math.floor((b - diff) / a)
        reset = diff
        commits[i] = nxt
      else
        reset = tat - now
        retry = diff - b
      end
    else
      redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.0f', now - a))
      local count = redis.call('ZCARD', key)
      local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
      if count < b then
        remaining = b - count - 1
        if oldest then reset = tonumber(oldest) + a - now else reset = a end
        commits[i] = now
      else
        reset = tonumber(oldest) + a - now
        retry = reset
      end
    end
    if commits[i] == nil and out[head] == 1 then
      out[head] = 0
      out[head + 1] = i
    end
    out[#out + 1] = remaining
    out[#out + 1] = reset
    out[#out + 1] = retry
  end
  if out[head] == 1 then
    for i = 1, n do
      local key = KEYS[k + i]
      if kinds[i] == 'g' then
        redis.call('SET', key, string.format('%.0f', commits[i]), 'PX', math.ceil((commits[i] - now) / 1000) + 1)
      else
        redis.call('ZADD', key, string.format('%.0f', now), string.format('%.0f', now) .. ':' .. member)
        redis.call('PEXPIRE', key, math.ceil(as[i] / 1000) + 1)
      end
    end
  end
  k = k + n
end
return out
`;

/**
 * KEYS[1]: the leases of one concurrency key, a sorted set of members scored by their expiry (µs).
 * ARGV: max, lease µs, member. Expired leases (of instances that died) are dropped first.
 * 1 when a slot was taken. The key lives as long as its longest lease.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], string.format('%.0f', now + tonumber(ARGV[2])), ARGV[3])
local ttl = math.ceil(tonumber(ARGV[2]) / 1000) + 1
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;

/**
 * KEYS[1], ARGV: lease µs, member. Pushes a held lease's expiry to now + lease; 0 when the lease is
 * gone (expired and taken over, or Redis lost it), which is never re-added: that could exceed max.
 */
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', now + tonumber(ARGV[1])), ARGV[2])
local ttl = math.ceil(tonumber(ARGV[1]) / 1000) + 1
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;

/** Most requests checked by one script call (it runs atomically in Redis, so its length is bounded). */
const MAX_BATCH = 64;

interface PendingCheck {
  readonly specs: readonly LimitSpec[];
  readonly keys: readonly string[];
  readonly resolve: (decision: Decision) => void;
  readonly reject: (err: unknown) => void;
}

/** A held lease is renewed this many times per lease time, so two lost renewals in a row still keep it. */
const RENEWALS_PER_LEASE = 3;

interface LimitCommands {
  vglConsume(numberOfKeys: number, ...args: (string | number)[]): Promise<number[]>;
  vglAcquire(key: string, max: number, leaseUs: number, member: string): Promise<number>;
  vglRenew(key: string, leaseUs: number, member: string): Promise<number>;
}

export type LimitRedis = Redis & LimitCommands;

/** Adds the limit scripts to a connection (sent once by EVALSHA, reloaded by ioredis if Redis restarted). */
export function defineLimitCommands(redis: Redis): LimitRedis {
  redis.defineCommand('vglConsume', { lua: CONSUME });
  redis.defineCommand('vglAcquire', { numberOfKeys: 1, lua: ACQUIRE });
  redis.defineCommand('vglRenew', { numberOfKeys: 1, lua: RENEW });
  return redis as LimitRedis;
}

/** The Redis side of a limit check; every call may reject (Redis down, timeout), and the caller falls back. */
export class RedisLimiterStore implements LimiterStore {
  /** Unique per process, so sliding-window members of two instances never collide. */
  private readonly instance = randomBytes(6).toString('base64url');
  private sequence = 0;
  /** Checks waiting for this turn's script call. */
  private pending: PendingCheck[] = [];
  private scheduled = false;

  constructor(
    private readonly redis: LimitRedis,
    private readonly prefix: string,
  ) {}

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  /**
   * Queues the check for this event-loop turn's batch (sent after the turn's I/O callbacks, so the
   * requests read from every ready socket share one script call, at most MAX_BATCH at a time).
   * A failed call rejects every check in it; each caller falls back on its own.
   */
  consume(specs: readonly LimitSpec[], keys: readonly string[]): Promise<Decision> {
    return new Promise<Decision>((resolve, reject) => {
      this.pending.push({ specs, keys, resolve, reject });
      if (this.pending.length >= MAX_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const keys: string[] = [];
    const args: (string | number)[] = [batch.length];
    for (const { specs, keys: parts } of batch) {
      args.push(specs.length, `${this.instance}.${(this.sequence++).toString(36)}`);
      for (let i = 0; i < specs.length; i++) {
        const spec = specs[i] as LimitSpec;
        keys.push(`${this.prefix}rl:${spec.id}:${parts[i] as string}`);
        if (spec.algorithm === 'gcra') {
          const { interval, tolerance } = gcraParams(spec);
          args.push('g', Math.round(interval * 1000), Math.round(tolerance * 1000));
        } else {
          args.push('w', spec.windowMs * 1000, spec.limit);
        }
      }
    }
    this.redis.vglConsume(keys.length, ...keys, ...args).then(
      (reply) => {
        let at = 0;
        for (const check of batch) {
          const states: LimitState[] = [];
          for (let i = 0; i < check.specs.length; i++) {
            const base = at + 2 + i * 3;
            states.push({ remaining: reply[base] as number, resetMs: (reply[base + 1] as number) / 1000, retryAfterMs: (reply[base + 2] as number) / 1000 });
          }
          const allowed = reply[at] === 1;
          check.resolve({ allowed, states, refusedBy: allowed ? -1 : (reply[at + 1] as number) - 1 });
          at += 2 + check.specs.length * 3;
        }
      },
      (err: unknown) => {
        for (const check of batch) check.reject(err);
      },
    );
  };

  /**
   * Takes a lease; while the request runs, this instance renews it every lease/3, so a request may
   * outlive the lease time (LLM streams) and still hold its slot, and the lease of an instance that
   * died (no renewals, no release) is free again at most one lease time later.
   */
  async acquire(spec: ConcurrencySpec, key: string): Promise<(() => void) | undefined> {
    const redisKey = `${this.prefix}cc:${spec.id}:${key}`;
    const member = `${this.instance}.${(this.sequence++).toString(36)}`;
    const leaseUs = spec.leaseMs * 1000;
    const taken = await this.redis.vglAcquire(redisKey, spec.max, leaseUs, member);
    if (taken !== 1) return undefined;
    const renewal = setInterval(() => {
      // A failed renewal (Redis briefly away) is retried at the next tick; a lost lease stays lost.
      this.redis.vglRenew(redisKey, leaseUs, member).then(
        (kept) => kept === 1 || clearInterval(renewal),
        () => undefined,
      );
    }, Math.max(100, Math.floor(spec.leaseMs / RENEWALS_PER_LEASE)));
    renewal.unref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      clearInterval(renewal);
      // A lost release is not lost capacity for long: the lease expires on its own.
      this.redis.zrem(redisKey, member).catch(() => undefined);
    };
  }
}
