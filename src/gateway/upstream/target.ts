import type { ConnectionOptions } from 'node:tls';
import { Pool } from 'undici';
import type { Clock } from '../../core/clock.js';
import type { TargetSeries } from '../upstream-metrics.js';
import { Breaker } from './breaker.js';
import type { BreakerOptions, BreakerState } from './breaker.js';

export interface TargetConfig {
  readonly url: string;
  readonly weight: number;
  readonly fallback: boolean;
}

/** Decay time of the latency average: older samples weigh e^-1 after this long. */
const EWMA_TAU_MS = 10_000;

/** One upstream server of a route: its connection pool, load, latency and breaker. */
export class UpstreamTarget {
  readonly origin: string;
  /** The URL's path without a trailing slash, prepended to every forwarded path. */
  readonly basePath: string;
  readonly host: string;
  /** The label in metrics: scheme, host and port. */
  readonly label: string;
  readonly weight: number;
  readonly fallback: boolean;
  readonly pool: Pool;
  readonly breaker: Breaker;
  /** Its connect/first-byte/total histograms and attempt counters. */
  readonly series: TargetSeries;
  inFlight = 0;
  /** False while the route's active health check has taken this target out of balancing. */
  healthy = true;
  /** Peak-EWMA response-header latency in ms (0 until the first sample). */
  latency = 0;
  /** When the last sample came, on the route's clock (undefined before the first). */
  private latencyAt: number | undefined;
  /** Smooth weighted round-robin state (nginx's algorithm). */
  currentWeight = 0;

  constructor(
    config: TargetConfig,
    connectTimeout: number,
    tls: ConnectionOptions,
    breaker: BreakerOptions,
    private readonly clock: Clock,
    onBreaker: (target: UpstreamTarget, state: BreakerState) => void,
    seriesFor: (label: string) => TargetSeries,
  ) {
    const url = new URL(config.url);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.host = url.host;
    this.label = url.origin;
    this.weight = config.weight;
    this.fallback = config.fallback;
    this.pool = new Pool(url.origin, { connections: 256, pipelining: 1, keepAliveTimeout: 4000, connect: { timeout: connectTimeout, ...tls } });
    this.breaker = new Breaker(breaker, clock, (state) => onBreaker(this, state));
    this.series = seriesFor(this.label);
  }

  /**
   * Peak EWMA: a slower sample takes over at once, faster ones pull the average down gradually, by
   * the time since the last sample on the route's clock (the one its breakers and retry budget read).
   */
  observeLatency(ms: number): void {
    const now = this.clock.now();
    if (this.latencyAt === undefined || ms > this.latency) {
      this.latency = ms;
    } else {
      const w = Math.exp(-(now - this.latencyAt) / EWMA_TAU_MS);
      this.latency = this.latency * w + ms * (1 - w);
    }
    this.latencyAt = now;
  }

  /** Expected cost of sending one more request here (peak-EWMA balancing). */
  cost(): number {
    return (this.latency || 1) * (this.inFlight + 1);
  }
}
