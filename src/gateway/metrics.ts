import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Per-route RED metrics. Label children are cached so the hot path does no label hashing. */
export class GatewayMetrics {
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly duration: Histogram<'route'>;
  private readonly requestChildren = new Map<string, Counter.Internal>();
  private readonly durationChildren = new Map<string, Histogram.Internal<'route'>>();

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
    const m = METHODS.has(method) ? method : 'OTHER';
    const key = `${route}\0${m}\0${status}`;
    let counter = this.requestChildren.get(key);
    if (!counter) {
      counter = this.requests.labels({ route, method: m, status: String(status) });
      this.requestChildren.set(key, counter);
    }
    counter.inc();
    let histogram = this.durationChildren.get(route);
    if (!histogram) {
      histogram = this.duration.labels({ route });
      this.durationChildren.set(route, histogram);
    }
    histogram.observe(durationMs / 1000);
  }
}
