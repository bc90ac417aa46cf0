import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Logger } from '../telemetry/logger.js';
import { BREAKER_STATE } from './upstream/breaker.js';
import type { BreakerState } from './upstream/breaker.js';

export type AttemptOutcome = 'success' | 'failure';

type TimingChild = Histogram.Internal<'route' | 'target'>;

/** One route/target's timing histogram children. */
interface TargetTimings {
  readonly connect: TimingChild;
  readonly ttfb: TimingChild;
  readonly total: TimingChild;
}

const TIMING_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Per-target metrics: attempts by outcome, connect / first-byte / total time, breaker state,
 * ejections, retries and requests in flight. Label children are cached per route and target
 * (nested maps, so the hot path builds no key strings and does no label hashing).
 */
export class UpstreamMetrics {
  private readonly attempts: Counter<'route' | 'target' | 'outcome'>;
  private readonly ttfb: Histogram<'route' | 'target'>;
  private readonly breaker: Gauge<'route' | 'target'>;
  private readonly ejections: Counter<'route' | 'target'>;
  private readonly retries: Counter<'route'>;
  private readonly inFlight: Gauge<'route'>;
  private readonly connect: Histogram<'route' | 'target'>;
  private readonly total: Histogram<'route' | 'target'>;
  private readonly healthy: Gauge<'route' | 'target'>;
  private readonly timingChildren = new Map<string, Map<string, TargetTimings>>();
  private readonly inFlightChildren = new Map<string, Gauge.Internal<'route'>>();
  private readonly attemptChildren = new Map<string, Counter.Internal>();

  constructor(
    registry: Registry,
    /** Where target health changes are reported. */
    private readonly logger?: Logger,
  ) {
    this.attempts = new Counter({
      name: 'vigil_gateway_upstream_attempts_total',
      help: 'Requests sent to each upstream target (retries included), by outcome (failure: connect error, reset, timeout, 502/503/504).',
      labelNames: ['route', 'target', 'outcome'],
      registers: [registry],
    });
    this.ttfb = new Histogram({
      name: 'vigil_gateway_upstream_ttfb_seconds',
      help: 'Time from sending a request to a target (connection included) to its response headers.',
      labelNames: ['route', 'target'],
      buckets: TIMING_BUCKETS,
      registers: [registry],
    });
    this.connect = new Histogram({
      name: 'vigil_gateway_upstream_connect_seconds',
      help: 'Time from sending a request to a target until it had a connected socket: pool wait plus TCP/TLS connect (near 0 on a kept-alive connection).',
      labelNames: ['route', 'target'],
      buckets: TIMING_BUCKETS,
      registers: [registry],
    });
    this.total = new Histogram({
      name: 'vigil_gateway_upstream_duration_seconds',
      help: 'Time from sending a request to a target until its response ended or the attempt failed (streams included).',
      labelNames: ['route', 'target'],
      buckets: [...TIMING_BUCKETS, 60, 120, 300],
      registers: [registry],
    });
    this.healthy = new Gauge({
      name: 'vigil_gateway_upstream_healthy',
      help: 'Active health check verdict per target (routes with `healthCheck` only): 1 in balancing, 0 taken out.',
      labelNames: ['route', 'target'],
      registers: [registry],
    });
    this.breaker = new Gauge({
      name: 'vigil_gateway_breaker_state',
      help: 'Circuit breaker state per target: 0 closed, 1 open (ejected), 2 half-open (probing).',
      labelNames: ['route', 'target'],
      registers: [registry],
    });
    this.ejections = new Counter({
      name: 'vigil_gateway_upstream_ejections_total',
      help: 'Times a target was ejected (its breaker opened).',
      labelNames: ['route', 'target'],
      registers: [registry],
    });
    this.retries = new Counter({ name: 'vigil_gateway_retries_total', help: 'Retried upstream attempts, by route.', labelNames: ['route'], registers: [registry] });
    this.inFlight = new Gauge({ name: 'vigil_gateway_in_flight', help: 'Requests being handled by the gateway, by route.', labelNames: ['route'], registers: [registry] });
  }

  attempt(route: string, target: string, outcome: AttemptOutcome): void {
    const key = `${route}\0${target}\0${outcome}`;
    let child = this.attemptChildren.get(key);
    if (!child) {
      child = this.attempts.labels({ route, target, outcome });
      this.attemptChildren.set(key, child);
    }
    child.inc();
  }

  connected(route: string, target: string, seconds: number): void {
    this.timings(route, target).connect.observe(seconds);
  }

  firstByte(route: string, target: string, seconds: number): void {
    this.timings(route, target).ttfb.observe(seconds);
  }

  finished(route: string, target: string, seconds: number): void {
    this.timings(route, target).total.observe(seconds);
  }

  private timings(route: string, target: string): TargetTimings {
    let byTarget = this.timingChildren.get(route);
    if (!byTarget) this.timingChildren.set(route, (byTarget = new Map()));
    let timings = byTarget.get(target);
    if (!timings) {
      const labels = { route, target };
      timings = { connect: this.connect.labels(labels), ttfb: this.ttfb.labels(labels), total: this.total.labels(labels) };
      byTarget.set(target, timings);
    }
    return timings;
  }

  breakerState(route: string, target: string, state: BreakerState): void {
    this.breaker.labels({ route, target }).set(BREAKER_STATE[state]);
  }

  /** A target's active health check verdict; `detail` (the probe's outcome) only on a change. */
  health(route: string, target: string, healthy: boolean, detail: string | undefined): void {
    this.healthy.labels({ route, target }).set(healthy ? 1 : 0);
    if (detail === undefined) return;
    if (healthy) this.logger?.info({ route, target, detail }, 'upstream target healthy again; back in balancing');
    else this.logger?.warn({ route, target, detail, code: 'VGL_GATEWAY_TARGET_UNHEALTHY' }, 'upstream target failed its health check; taken out of balancing');
  }

  ejected(route: string, target: string): void {
    this.ejections.labels({ route, target }).inc();
  }

  retried(route: string): void {
    this.retries.labels({ route }).inc();
  }

  inFlightDelta(route: string, delta: number): void {
    let child = this.inFlightChildren.get(route);
    if (!child) {
      child = this.inFlight.labels({ route });
      this.inFlightChildren.set(route, child);
    }
    child.inc(delta);
  }
}
