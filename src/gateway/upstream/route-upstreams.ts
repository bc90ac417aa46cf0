import type { RouteConfig } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import type { UpstreamMetrics } from '../upstream-metrics.js';
import { pickTarget } from './balancer.js';
import { TargetHealthCheck } from './health-check.js';
import { RetryBudget } from './retry-budget.js';
import { UpstreamTarget } from './target.js';
import { upstreamTlsOptions } from './tls-files.js';

/** A route's upstream side: its targets (pools, load, breakers), balancing and retry budget. */
export class RouteUpstreams {
  readonly targets: readonly UpstreamTarget[];
  readonly budget: RetryBudget;
  /** Set by an alert's routeFallback action: only the fallback targets take traffic while it is on. */
  fallbackOnly = false;
  private readonly fallbacks: readonly UpstreamTarget[];
  private readonly healthChecks: readonly TargetHealthCheck[];

  constructor(
    private readonly config: RouteConfig,
    metrics: UpstreamMetrics,
    /** The breakers', the retry budget's and the health checks' time: when an ejection ends, when a budget window rolls. */
    clock: Clock,
  ) {
    const { upstreams, timeouts } = config;
    const targetConfigs = config.upstream !== undefined ? [{ url: config.upstream, weight: 1, fallback: false }] : upstreams.targets;
    const tls = upstreamTlsOptions(config.upstreamTls);
    this.targets = targetConfigs.map(
      (target) =>
        new UpstreamTarget(target, timeouts.connect, tls, upstreams.breaker, clock, (t, state) => {
          metrics.breakerState(config.name, t.label, state);
          if (state === 'open') metrics.ejected(config.name, t.label);
        }, (label) => metrics.target(config.name, label)),
    );
    for (const target of this.targets) metrics.breakerState(config.name, target.label, 'closed');
    this.budget = new RetryBudget(upstreams.retry.budget, 10, clock);
    this.fallbacks = this.targets.filter((t) => t.fallback);
    const { healthCheck } = config;
    this.healthChecks = healthCheck
      ? this.targets.map((target) => new TargetHealthCheck(target, healthCheck, (t, healthy, detail) => metrics.health(config.name, t.label, healthy, detail), clock))
      : [];
    for (const check of this.healthChecks) check.start();
    for (const target of healthCheck ? this.targets : []) metrics.health(config.name, target.label, true, undefined);
  }

  /** Stops the active health checks (the pools may still finish their requests). */
  stopHealthChecks(): void {
    for (const check of this.healthChecks) check.stop();
  }

  /** The target for the next attempt, or undefined when every target is ejected (breaker open) or unhealthy. */
  pick(exclude: UpstreamTarget | undefined): UpstreamTarget | undefined {
    return pickTarget(this.fallbackOnly && this.fallbacks.length > 0 ? this.fallbacks : this.targets, this.config.upstreams.balance, exclude);
  }

  async close(): Promise<void> {
    this.stopHealthChecks();
    await Promise.all(this.targets.map((t) => t.pool.close()));
  }
}
