import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { FastCounter, FastGauge, FastHistogram } from '../telemetry/fast-metrics.js';
import type { CounterSeries, HistogramSeries } from '../telemetry/fast-metrics.js';
import type { Logger } from '../telemetry/logger.js';
import { BREAKER_STATE } from './upstream/breaker.js';
import type { BreakerState } from './upstream/breaker.js';

/** One route/target's request-path series, resolved once and kept by the target (UpstreamTarget.series). */
export interface TargetSeries {
  readonly connect: HistogramSeries;
  readonly ttfb: HistogramSeries;
  readonly total: HistogramSeries;
  readonly success: CounterSeries;
  readonly failure: CounterSeries;
}

const TIMING_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Per-target metrics: attempts by outcome, connect / first-byte / total time, breaker state,
 * ejections, retries and requests in flight. The request-path ones are fast-metrics series,
 * resolved once per route and target (kept across reloads): recording is a field update.
 */
export class UpstreamMetrics {
  private readonly attempts: FastCounter;
  private readonly ttfb: FastHistogram;
  private readonly breaker: Gauge<'route' | 'target'>;
  private readonly ejections: Counter<'route' | 'target'>;
  private readonly retries: Counter<'route'>;
  private readonly inFlight: FastGauge;
  private readonly connect: FastHistogram;
  private readonly total: FastHistogram;
  private readonly healthy: Gauge<'route' | 'target'>;
  private readonly targetSeries = new Map<string, TargetSeries>();
  private readonly inFlightSeries = new Map<string, CounterSeries>();

  constructor(
    registry: Registry,
    /** Where target health changes are reported. */
    private readonly logger?: Logger,
  ) {
    this.attempts = new FastCounter(
      'vigil_gateway_upstream_attempts_total',
      'Requests sent to each upstream target (retries included), by outcome (failure: connect error, reset, timeout, 502/503/504).',
      registry,
    );
    this.ttfb = new FastHistogram(
      'vigil_gateway_upstream_ttfb_seconds',
      'Time from sending a request to a target (connection included) to its response headers.',
      TIMING_BUCKETS,
      registry,
    );
    this.connect = new FastHistogram(
      'vigil_gateway_upstream_connect_seconds',
      'Time from sending a request to a target until it had a connected socket: pool wait plus TCP/TLS connect (near 0 on a kept-alive connection).',
      TIMING_BUCKETS,
      registry,
    );
    this.total = new FastHistogram(
      'vigil_gateway_upstream_duration_seconds',
      'Time from sending a request to a target until its response ended or the attempt failed (streams included).',
      [...TIMING_BUCKETS, 60, 120, 300],
      registry,
    );
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
    this.inFlight = new FastGauge('vigil_gateway_in_flight', 'Requests being handled by the gateway, by route.', registry);
  }

  /** The series one target records its attempts in (the same object for the same route and target, across reloads). */
  target(route: string, target: string): TargetSeries {
    const key = `${route}\0${target}`;
    let series = this.targetSeries.get(key);
    if (!series) {
      const labels = { route, target };
      series = {
        connect: this.connect.series(labels),
        ttfb: this.ttfb.series(labels),
        total: this.total.series(labels),
        success: this.attempts.series({ route, target, outcome: 'success' }),
        failure: this.attempts.series({ route, target, outcome: 'failure' }),
      };
      this.targetSeries.set(key, series);
    }
    return series;
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
    let series = this.inFlightSeries.get(route);
    if (!series) this.inFlightSeries.set(route, (series = this.inFlight.series({ route })));
    series.value += delta;
  }
}
