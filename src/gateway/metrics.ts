import type { Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../telemetry/fast-metrics.js';
import type { CounterSeries, HistogramSeries } from '../telemetry/fast-metrics.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const OTHER = METHODS.length;

/** One route's series: the histogram, and a counter per method and status. */
interface RouteSeries {
  readonly duration: HistogramSeries;
  /** Keyed by `status * 8 + method index`: a number, so the hot path builds no key string. */
  readonly requests: Map<number, CounterSeries>;
}

/**
 * Per-route RED metrics. Series are resolved once per route, method and status, and recording is
 * a field update: no label object is built or hashed per request (telemetry/fast-metrics.ts).
 */
export class GatewayMetrics {
  private readonly requests: FastCounter;
  private readonly duration: FastHistogram;
  private readonly routes = new Map<string, RouteSeries>();

  constructor(registry: Registry) {
    this.requests = new FastCounter('vigil_gateway_requests_total', 'Gateway requests by route, method and response status (499: client closed first).', registry);
    this.duration = new FastHistogram(
      'vigil_gateway_request_duration_seconds',
      'Time from request received to response finished, by route.',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registry,
    );
  }

  observe(route: string, method: string, status: number, durationMs: number): void {
    let series = this.routes.get(route);
    if (!series) {
      series = { duration: this.duration.series({ route }), requests: new Map() };
      this.routes.set(route, series);
    }
    const index = METHODS.indexOf(method);
    const m = index === -1 ? OTHER : index;
    const key = status * 8 + m;
    let counter = series.requests.get(key);
    if (!counter) {
      counter = this.requests.series({ route, method: m === OTHER ? 'OTHER' : method, status: String(status) });
      series.requests.set(key, counter);
    }
    counter.value++;
    series.duration.observe(durationMs / 1000);
  }
}
