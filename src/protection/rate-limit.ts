import type { Clock } from '../core/clock.js';

/**
 * Rate and concurrency limit algorithms and the in-memory store. The Redis store
 * (rate-limit-redis.ts) runs the same arithmetic in Lua, so a route behaves the same on either.
 */

export interface LimitSpec {
  /** Storage identity: route, name and parameters, so a changed limit starts from fresh counters. */
  readonly id: string;
  readonly name: string;
  readonly algorithm: 'gcra' | 'sliding-window';
  readonly limit: number;
  readonly windowMs: number;
  /** GCRA: requests admitted at once; sliding window: equal to `limit`. */
  readonly burst: number;
}

export interface ConcurrencySpec {
  readonly id: string;
  readonly name: string;
  readonly max: number;
  readonly leaseMs: number;
}

export interface LimitState {
  /** Requests still admitted right now. */
  readonly remaining: number;
  /** Milliseconds until the quota is whole again. */
  readonly resetMs: number;
  /** When refused: milliseconds until a request would be admitted; 0 otherwise. */
  readonly retryAfterMs: number;
}

/** The verdict on one request for a group of limits: all admit it (and count it), or none counts it. */
export interface Decision {
  readonly allowed: boolean;
  readonly states: readonly LimitState[];
  /** Index of the first limit that refused, -1 when allowed. */
  readonly refusedBy: number;
}

/** Where limits are counted. Memory answers synchronously; Redis through a promise. */
export interface LimiterStore {
  consume(specs: readonly LimitSpec[], keys: readonly string[]): Decision | Promise<Decision>;
  /** Takes a slot; resolves to a release function, or undefined when all `max` slots are taken. */
  acquire(spec: ConcurrencySpec, key: string): (() => void) | undefined | Promise<(() => void) | undefined>;
}

/** Floating-point slack for GCRA comparisons (fractions of a millisecond). */
const EPSILON = 1e-6;

/** GCRA arithmetic shared by both stores: emission interval and tolerance of a spec. */
export function gcraParams(spec: LimitSpec): { interval: number; tolerance: number } {
  const interval = spec.windowMs / spec.limit;
  return { interval, tolerance: interval * spec.burst };
}

/** Timestamps of the admitted requests still inside the window, oldest first (a ring that grows up to `limit`). */
class Window {
  private times: Float64Array;
  private start = 0;
  length = 0;

  constructor(capacity: number) {
    this.times = new Float64Array(Math.min(capacity, 16));
  }

  oldest(): number {
    return this.times[this.start] as number;
  }

  newest(): number {
    return this.times[(this.start + this.length - 1) % this.times.length] as number;
  }

  /** Drops the timestamps at or before `cutoff`. */
  expire(cutoff: number): void {
    while (this.length > 0 && (this.times[this.start] as number) <= cutoff) {
      this.start = (this.start + 1) % this.times.length;
      this.length--;
    }
  }

  push(at: number, limit: number): void {
    if (this.length === this.times.length) {
      const grown = new Float64Array(Math.min(limit, this.times.length * 2));
      for (let i = 0; i < this.length; i++) grown[i] = this.times[(this.start + i) % this.times.length] as number;
      this.times = grown;
      this.start = 0;
    }
    this.times[(this.start + this.length) % this.times.length] = at;
    this.length++;
  }
}

interface SpecCounters {
  readonly spec: LimitSpec;
  readonly gcra: Map<string, number>;
  readonly windows: Map<string, Window>;
}

/** How many operations pass between two sweeps of idle keys. */
const SWEEP_EVERY = 4096;

/**
 * Counters in this process. Exact and synchronous (no promise on the hot path); idle keys are
 * swept every few thousand operations, so memory follows the active clients, not every client seen.
 */
export class MemoryLimiterStore implements LimiterStore {
  private readonly counters = new Map<string, SpecCounters>();
  private readonly inFlight = new Map<string, Map<string, number>>();
  private operations = 0;

  constructor(private readonly clock: Clock) {}

  consume(specs: readonly LimitSpec[], keys: readonly string[]): Decision {
    const now = this.clock.now();
    if (++this.operations % SWEEP_EVERY === 0) this.sweep(now);
    const states: LimitState[] = [];
    let refusedBy = -1;
    const pending: number[] = [];
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i] as LimitSpec;
      const key = keys[i] as string;
      const counters = this.countersOf(spec);
      if (spec.algorithm === 'gcra') {
        const { interval, tolerance } = gcraParams(spec);
        const tat = Math.max(counters.gcra.get(key) ?? now, now);
        const next = tat + interval;
        const diff = next - now;
        if (diff <= tolerance + EPSILON) {
          pending.push(next);
          states.push({ remaining: Math.floor((tolerance - diff) / interval + EPSILON), resetMs: diff, retryAfterMs: 0 });
        } else {
          pending.push(NaN);
          if (refusedBy === -1) refusedBy = i;
          states.push({ remaining: 0, resetMs: tat - now, retryAfterMs: diff - tolerance });
        }
      } else {
        const window = counters.windows.get(key);
        window?.expire(now - spec.windowMs);
        const count = window?.length ?? 0;
        pending.push(now);
        if (count < spec.limit) {
          states.push({ remaining: spec.limit - count - 1, resetMs: count === 0 ? spec.windowMs : (window as Window).oldest() + spec.windowMs - now, retryAfterMs: 0 });
        } else {
          if (refusedBy === -1) refusedBy = i;
          const wait = (window as Window).oldest() + spec.windowMs - now;
          states.push({ remaining: 0, resetMs: wait, retryAfterMs: wait });
        }
      }
    }
    if (refusedBy === -1) {
      for (let i = 0; i < specs.length; i++) this.commit(specs[i] as LimitSpec, keys[i] as string, pending[i] as number);
    }
    return { allowed: refusedBy === -1, states, refusedBy };
  }

  acquire(spec: ConcurrencySpec, key: string): (() => void) | undefined {
    let slots = this.inFlight.get(spec.id);
    if (!slots) {
      slots = new Map();
      this.inFlight.set(spec.id, slots);
    }
    const used = slots.get(key) ?? 0;
    if (used >= spec.max) return undefined;
    slots.set(key, used + 1);
    const held = slots;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (held.get(key) ?? 1) - 1;
      if (left <= 0) held.delete(key);
      else held.set(key, left);
    };
  }

  private commit(spec: LimitSpec, key: string, value: number): void {
    const counters = this.countersOf(spec);
    if (spec.algorithm === 'gcra') {
      counters.gcra.set(key, value);
      return;
    }
    let window = counters.windows.get(key);
    if (!window) {
      window = new Window(spec.limit);
      counters.windows.set(key, window);
    }
    window.push(value, spec.limit);
  }

  private countersOf(spec: LimitSpec): SpecCounters {
    let counters = this.counters.get(spec.id);
    if (!counters) {
      counters = { spec, gcra: new Map(), windows: new Map() };
      this.counters.set(spec.id, counters);
    }
    return counters;
  }

  /** Drops keys whose bucket is full again or whose window is empty: they hold no information. */
  private sweep(now: number): void {
    for (const { spec, gcra, windows } of this.counters.values()) {
      for (const [key, tat] of gcra) if (tat <= now) gcra.delete(key);
      for (const [key, window] of windows) if (window.length === 0 || window.newest() <= now - spec.windowMs) windows.delete(key);
    }
  }
}
