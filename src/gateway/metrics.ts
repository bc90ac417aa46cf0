import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const OTHER = METHODS.length;

/** One route's cached label children: the histogram, and a counter per method and status. */
interface RouteSeries {
  readonly duration: Histogram.Internal<'route'>;
  /** Keyed by `status * 8 + method index`: a number, so the hot path builds no key string. */
  readonly requests: Map<number, Counter.Internal>;
}

/** Per-route RED metrics. Label children are cached so the hot path does no label hashing. */
export class GatewayMetrics {
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly duration: Histogram<'route'>;
  private readonly routes = new Map<string, RouteSeries>();

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'vigil_gateway_requests_total',
      help: 'Gateway requests by route, method and response status (499: client closed first).',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'vigil_gateway_request_duration_seconds',
      help: 'Time from request received to response finished, by route.',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
  }

  observe(route: string, method: string, status: number, durationMs: number): void {
    let series = this.routes.get(route);
    if (!series) {
      series = { duration: this.duration.labels({ route }), requests: new Map() };
      this.routes.set(route, series);
    }
    const index = METHODS.indexOf(method);
    const m = index === -1 ? OTHER : index;
    const key = status * 8 + m;
    let counter = series.requests.get(key);
    if (!counter) {
      counter = this.requests.labels({ route, method: m === OTHER ? 'OTHER' : method, status: String(status) });
      series.requests.set(key, counter);
    }
    counter.inc();
    series.duration.observe(durationMs / 1000);
  }
}
