import type { RouteConfig } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import { HttpCheck } from '../../monitor/checks/http.js';
import { HeartbeatBook } from '../../monitor/heartbeat-book.js';
import type { UpstreamTarget } from './target.js';

export type HealthCheckConfig = NonNullable<RouteConfig['healthCheck']>;

/**
 * Active health checking of one target with the monitor's HTTP check, sent through the target's
 * own connection pool (so `upstreamTls` applies). `unhealthyThreshold` failed probes in a row take
 * the target out of balancing (`target.healthy = false`), `healthyThreshold` passes in a row put
 * it back. A target starts healthy, so a start or reload sends traffic at once. Independent of the
 * breaker, which reacts to real requests: a target must be healthy and have its breaker admit a
 * request to be picked.
 */
export class TargetHealthCheck {
  private readonly check: HttpCheck;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private passes = 0;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly target: UpstreamTarget,
    private readonly config: HealthCheckConfig,
    private readonly onChange: (target: UpstreamTarget, healthy: boolean, detail: string) => void,
    /** The route's clock, as the check's `now` (which an HTTP check does not read today: probes are paced by timers and measured with performance.now()). */
    clock: Clock,
  ) {
    this.check = new HttpCheck(
      {
        type: 'http',
        name: 'gateway-health',
        interval: config.interval,
        timeout: config.timeout,
        readiness: false,
        retries: 0,
        url: target.origin + target.basePath + config.path,
        method: config.method,
        headers: { 'user-agent': 'vigil-gateway-health', ...config.headers },
        tlsVerify: true,
        expectStatus: config.expectStatus,
        followRedirects: false,
        maxRedirects: 1,
        conditions: config.conditions,
      },
      { dispatcher: target.pool, insecureDispatcher: target.pool, heartbeats: new HeartbeatBook(), now: () => clock.now() },
    );
  }

  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.controller.abort();
    clearTimeout(this.timer);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.probe(), delay);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    const started = performance.now();
    const outcome = await this.check.run(this.controller.signal);
    if (this.stopped) return;
    if (outcome.status === 'up') {
      this.failures = 0;
      this.passes++;
      if (!this.target.healthy && this.passes >= this.config.healthyThreshold) this.set(true, outcome.detail);
    } else {
      this.passes = 0;
      this.failures++;
      if (this.target.healthy && this.failures >= this.config.unhealthyThreshold) this.set(false, outcome.detail);
    }
    this.schedule(Math.max(0, this.config.interval - (performance.now() - started)));
  }

  private set(healthy: boolean, detail: string): void {
    this.target.healthy = healthy;
    this.onChange(this.target, healthy, detail);
  }
}
