import { Counter } from 'prom-client';
import { Agent } from 'undici';
import type { Component } from '../core/lifecycle.js';
import type { ServiceDeps } from '../core/service-deps.js';
import type { Alert, AlertAck } from '../store/records.js';
import type { Logger } from '../telemetry/logger.js';
import { acknowledgeAlert } from './ack.js';
import { Digest } from './digest.js';
import type { DigestSources } from './digest.js';
import { Dispatcher } from './dispatcher.js';
import { OutboxWorker } from './outbox-worker.js';
import type { OutboxWorkerOptions, Receiver } from './outbox-worker.js';
import { createNotifier } from './registry.js';

export interface AlertingDeps extends ServiceDeps {
  /** Polling and retry timing; tests shorten it. */
  outbox?: Partial<OutboxWorkerOptions>;
  /** HMAC key of signed acknowledge links (`<dataDir>/alert-ack.key`); without it notifications carry no links. */
  ackKey?: Buffer;
  /** Uptime for the daily digest; without it the digest says uptime is not available. */
  digestSources?: DigestSources;
}

/**
 * Where alerts go. Takes every `alert.changed` from the bus (whoever evaluates the rules), routes it
 * into groups, mutes what is silenced, inhibited or in maintenance, escalates what nobody
 * acknowledges, and puts each notification in the durable outbox before anything is sent.
 */
export class AlertingService implements Component {
  readonly name = 'alerting';
  readonly dispatcher: Dispatcher;
  private readonly worker: OutboxWorker;
  private readonly receivers: Map<string, Receiver>;
  private readonly digest: Digest | undefined;
  private readonly http = new Agent({ keepAliveTimeout: 4000 });
  private readonly logger: Logger;
  /** Alert changes, ticks and acknowledgements run one after another, so the store sees them in order. */
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly deps: AlertingDeps) {
    this.logger = deps.logger.child({ component: 'alerting' });
    const notifierDeps = { dispatcher: this.http, logger: this.logger };
    this.receivers = new Map(deps.config.alerting.receivers.map((config) => [config.name, { config, notifier: createNotifier(config, notifierDeps) }]));
    const notifications = new Counter({
      name: 'vigil_notifications_total',
      help: 'Notification delivery attempts by receiver and outcome (delivered, failed, expired).',
      labelNames: ['receiver', 'outcome'],
      registers: [deps.registry],
    });
    this.worker = new OutboxWorker(
      { outbox: deps.store.outbox, receivers: this.receivers, clock: deps.clock, logger: this.logger, attempts: deps.store.alertLog, onOutcome: (receiver, outcome) => notifications.inc({ receiver, outcome }) },
      deps.outbox,
    );
    this.dispatcher = new Dispatcher(deps.config.alerting, deps.store, deps.clock, this.logger, deps.ackKey);
    const digest = deps.config.alerting.digest;
    this.digest = digest === undefined ? undefined : new Digest(digest, deps.store, deps.clock, deps.digestSources);
  }

  async start(): Promise<void> {
    await this.dispatcher.restore(await this.deps.store.alerts.open());
    this.unsubscribe = this.deps.bus.on('alert.changed', (alert) => void this.serial(() => this.observe(alert)));
    this.worker.start();
    this.arm();
  }

  async stop(deadline: number): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    await this.chain;
    await this.worker.stop(deadline);
    for (const { notifier } of this.receivers.values()) await notifier.close?.();
    await this.http.close().catch((err: unknown) => this.logger.warn({ err }, 'notifier connection pool did not close cleanly'));
  }

  /** Flushes every group, escalation and digest that is due now. The timer calls it; tests with a manual clock call it. */
  tick(): Promise<void> {
    return this.serial(async () => {
      await this.dispatcher.tick();
      if (this.digest !== undefined && (await this.digest.sendIfDue())) this.logger.info({ receiver: this.digest.receiver }, 'daily digest queued');
      this.worker.wake();
    });
  }

  /** Resolves once every alert change published so far has been taken in. */
  settled(): Promise<void> {
    return this.serial(() => Promise.resolve());
  }

  /** Acknowledges a firing alert (API and signed link; the CLI does the same through the store). */
  async acknowledge(alertId: string, by: string, via: AlertAck['via'], comment = '', episode?: number): Promise<{ alert: Alert; already: boolean }> {
    let result: { alert: Alert; already: boolean } | undefined;
    let failure: unknown;
    await this.serial(async () => {
      try {
        result = await acknowledgeAlert(this.deps.store, { alertId, by, via, comment, now: this.deps.clock.now(), ...(episode === undefined ? {} : { episode }) });
      } catch (err) {
        failure = err;
      }
    });
    if (result === undefined) throw failure;
    this.worker.wake();
    return result;
  }

  private async observe(alert: Alert): Promise<void> {
    await this.dispatcher.observe(alert);
    await this.dispatcher.tick();
    this.worker.wake();
  }

  private serial(task: () => Promise<void>): Promise<void> {
    this.chain = this.chain
      .then(task)
      .catch((err: unknown) => this.logger.error({ err }, 'alert dispatch failed'))
      .finally(() => this.arm());
    return this.chain;
  }

  /** One timer for the earliest due group, escalation step or digest. */
  private arm(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const due = [this.dispatcher.nextDue(), this.digest?.nextAt()].filter((at): at is number => at !== undefined);
    if (due.length === 0) return;
    // Capped so a clock jump or a long wait never leaves the timer far in the future.
    const wait = Math.min(Math.max(0, Math.min(...due) - this.deps.clock.now()), 60_000);
    this.timer = setTimeout(() => void this.tick(), wait);
    this.timer.unref();
  }
}
