import { Gauge } from 'prom-client';
import { Agent } from 'undici';
import type { Component } from '../core/lifecycle.js';
import type { CheckResult, SystemSample } from '../store/records.js';
import type { ServiceDeps } from '../core/service-deps.js';
import type { Logger } from '../telemetry/logger.js';
import { VigilError } from '../core/errors.js';
import type { Check } from './check.js';
import { HeartbeatBook } from './heartbeat-book.js';
import { MonitorHistory } from './history.js';
import { SystemMetrics } from './system-metrics.js';
import { createCheck } from './registry.js';
import { CheckScheduler } from './scheduler.js';

/** How often finished hours are rolled up and old history is dropped. */
const MAINTENANCE_INTERVAL_MS = 5 * 60_000;

export interface MonitorDeps extends ServiceDeps {
  /** Largest random delay before each check's first run; tests set it low. */
  maxJitterMs?: number;
}

/** A configured check and its latest result, for the health endpoints. */
export interface CheckHealth {
  name: string;
  readiness: boolean;
  /** Undefined until the check has run once since start. */
  result: CheckResult | undefined;
}

/**
 * Runs the configured checks. Every result is stored, exported as `vigil_check_up` and
 * `vigil_check_latency_seconds`, published as `check.result` (the alert rules listen) and kept
 * as the latest per check for `/readyz` and `/healthz`.
 */
export class MonitorService implements Component {
  readonly name = 'monitor';
  private readonly checks: Check[];
  private readonly latest = new Map<string, CheckResult>();
  private readonly scheduler: CheckScheduler;
  private readonly dispatcher = new Agent({ keepAliveTimeout: 4000 });
  private readonly insecureDispatcher = new Agent({ keepAliveTimeout: 4000, connect: { rejectUnauthorized: false } });
  /** Where `POST /api/v1/heartbeat/<check>` records pings. */
  readonly heartbeats = new HeartbeatBook();
  private readonly up: Gauge<'check'>;
  private readonly latency: Gauge<'check'>;
  private readonly value: Gauge<'check'>;
  private readonly tlsExpiry: Gauge<'check'>;
  private readonly types = new Map<string, Check['type']>();
  /** Uptime, latency percentiles and past results, from the store. */
  readonly history: MonitorHistory;
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private readonly system: SystemMetrics | undefined;
  private sampleTimer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;

  constructor(private readonly deps: MonitorDeps) {
    this.logger = deps.logger.child({ component: 'monitor' });
    const checkDeps = { dispatcher: this.dispatcher, insecureDispatcher: this.insecureDispatcher, heartbeats: this.heartbeats, now: () => deps.clock.now() };
    this.checks = deps.config.monitor.checks.map((config, i) => {
      try {
        return createCheck(config, checkDeps);
      } catch (err) {
        throw new VigilError('VGL_MONITOR_CHECK_SETUP', `monitor.checks[${i}] (${config.name}): cannot be set up (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
      }
    });
    for (const check of this.checks) this.types.set(check.name, check.type);
    this.history = new MonitorHistory(deps.store.checkHistory);
    if (deps.config.monitor.system.enabled) this.system = new SystemMetrics(deps.registry);
    this.up = new Gauge({ name: 'vigil_check_up', help: '1 when the latest run of the check was up, 0 when down.', labelNames: ['check'], registers: [deps.registry] });
    this.latency = new Gauge({
      name: 'vigil_check_latency_seconds',
      help: 'Latency of the latest run of the check (time to response headers for HTTP checks).',
      labelNames: ['check'],
      registers: [deps.registry],
    });
    this.value = new Gauge({
      name: 'vigil_check_value',
      help: 'The number the latest run measured (json-metric value, free disk %, process RSS bytes, seconds to certificate expiry…).',
      labelNames: ['check'],
      registers: [deps.registry],
    });
    this.tlsExpiry = new Gauge({
      name: 'vigil_tls_cert_expiry_seconds',
      help: 'Seconds until the certificate seen by the tls check expires (negative once expired).',
      labelNames: ['check'],
      registers: [deps.registry],
    });
    this.scheduler = new CheckScheduler({
      clock: deps.clock,
      maxJitterMs: deps.maxJitterMs,
      maxConcurrent: deps.config.monitor.maxConcurrent,
      retriesOf: (name) => deps.config.monitor.checks.find((c) => c.name === name)?.retries ?? 0,
      onResult: (result) => this.record(result),
      onError: (err, check) => this.logger.error({ err, check }, 'check result handling failed'),
      onSkipped: (check) => this.logger.warn({ check }, 'check run skipped: the previous run has not finished'),
    });
  }

  async start(): Promise<void> {
    this.scheduler.start(this.checks);
    void this.maintain();
    this.maintenanceTimer = setInterval(() => void this.maintain(), MAINTENANCE_INTERVAL_MS);
    this.maintenanceTimer.unref();
    if (this.system) {
      this.sampleTimer = setInterval(() => void this.sampleSystem(), this.deps.config.monitor.system.sampleInterval);
      this.sampleTimer.unref();
    }
    this.logger.info({ checks: this.checks.map((c) => c.name) }, 'monitor started');
  }

  async stop(deadline: number): Promise<void> {
    clearInterval(this.maintenanceTimer);
    clearInterval(this.sampleTimer);
    this.system?.close();
    await this.scheduler.stop(deadline);
    for (const pool of [this.dispatcher, this.insecureDispatcher]) {
      await pool.close().catch((err: unknown) => this.logger.warn({ err }, 'check connection pool did not close cleanly'));
    }
  }

  /** Rolls up finished hours and applies the retention; logged, never thrown. */
  async maintain(): Promise<void> {
    const { rawRetention, rollupRetention } = this.deps.config.monitor.history;
    try {
      const now = this.deps.clock.now();
      const done = await this.history.maintain(now, rawRetention, rollupRetention);
      await this.deps.store.systemSamples.prune(now - rawRetention);
      if (done.rollups + done.prunedRaw + done.prunedRollups > 0) this.logger.debug(done, 'check history maintained');
    } catch (err) {
      this.logger.error({ err }, 'check history maintenance failed');
    }
  }

  systemSamples(from: number, to: number, limit: number): Promise<SystemSample[]> {
    return this.deps.store.systemSamples.range(from, to, limit);
  }

  /** Stores one system sample; logged, never thrown. */
  async sampleSystem(): Promise<void> {
    if (!this.system) return;
    try {
      await this.deps.store.systemSamples.append(await this.system.sample(this.deps.clock.now()));
    } catch (err) {
      this.logger.error({ err }, 'system sample could not be stored');
    }
  }

  /** The type of each configured check, by name. */
  typeOf(check: string): Check['type'] | undefined {
    return this.types.get(check);
  }

  /** Resolves when the store answers; part of readiness. */
  pingStore(): Promise<void> {
    return this.deps.store.ping();
  }

  /** Every configured check, in config order, with its latest result. */
  health(): CheckHealth[] {
    return this.checks.map((check) => ({ name: check.name, readiness: check.readiness, result: this.latest.get(check.name) }));
  }

  latestResult(check: string): CheckResult | undefined {
    return this.latest.get(check);
  }

  private async record(result: CheckResult): Promise<void> {
    const previous = this.latest.get(result.check);
    this.latest.set(result.check, result);
    // Pending is not yet down: the gauge keeps its last confirmed state (no flapping on a single failure).
    if (result.status !== 'pending') this.up.set({ check: result.check }, result.status === 'up' ? 1 : 0);
    this.latency.set({ check: result.check }, result.latencyMs / 1000);
    if (result.value !== undefined) {
      this.value.set({ check: result.check }, result.value);
      if (this.types.get(result.check) === 'tls') this.tlsExpiry.set({ check: result.check }, result.value);
    }
    if (previous?.status !== result.status) {
      const line = { check: result.check, status: result.status, detail: result.detail, latencyMs: Math.round(result.latencyMs) };
      if (result.status === 'up') this.logger.info(line, 'check is up');
      else if (result.status === 'pending') this.logger.warn(line, 'check is failing; retrying before it is declared down');
      else this.logger.warn(line, 'check is down');
    }
    // Alert rules hear the result even when the store cannot keep it.
    this.deps.bus.emit('check.result', result);
    try {
      await this.deps.store.checks.append(result);
    } catch (err) {
      this.logger.error({ err, check: result.check }, 'check result could not be stored');
    }
  }
}
