import { Counter } from 'prom-client';
import { Agent } from 'undici';
import type { Component } from '../core/lifecycle.js';
import type { Alert, CheckResult } from '../store/records.js';
import type { ServiceDeps } from '../core/service-deps.js';
import type { Logger } from '../telemetry/logger.js';
import { CheckDownRule } from './check-down-rule.js';
import type { AlertTransition } from './check-down-rule.js';
import { OutboxWorker } from './outbox-worker.js';
import type { OutboxWorkerOptions, Receiver } from './outbox-worker.js';
import { notificationPayload } from './payload.js';
import { createNotifier } from './registry.js';

export interface AlertingDeps extends ServiceDeps {
  /** Polling and retry timing; tests shorten it. */
  outbox?: Partial<OutboxWorkerOptions>;
}

/**
 * Evaluates the alert rules on every check result and on a timer (so `for` is honoured between
 * results), persists every alert change, and puts each notice in the durable outbox before
 * anything is sent. Open alerts are restored from the store at start, so a restart neither
 * forgets a firing alert nor notifies it twice.
 */
export class AlertingService implements Component {
  readonly name = 'alerting';
  private readonly rules: CheckDownRule[];
  private readonly worker: OutboxWorker;
  private readonly dispatcher = new Agent({ keepAliveTimeout: 4000 });
  private readonly logger: Logger;
  /** Every evaluation and its writes run one after another, so the store sees changes in order. */
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: AlertingDeps) {
    this.logger = deps.logger.child({ component: 'alerting' });
    this.rules = deps.config.alerting.rules.map((rule) => new CheckDownRule(rule, deps.clock));
    const receivers = new Map<string, Receiver>(
      deps.config.alerting.receivers.map((config) => [config.name, { config, notifier: createNotifier(config, { dispatcher: this.dispatcher }) }]),
    );
    const notifications = new Counter({
      name: 'vigil_notifications_total',
      help: 'Notification delivery attempts by receiver and outcome (delivered, failed, expired).',
      labelNames: ['receiver', 'outcome'],
      registers: [deps.registry],
    });
    this.worker = new OutboxWorker(
      { outbox: deps.store.outbox, receivers, clock: deps.clock, logger: this.logger, onOutcome: (receiver, outcome) => notifications.inc({ receiver, outcome }) },
      deps.outbox,
    );
  }

  async start(): Promise<void> {
    await this.restore();
    this.unsubscribe = this.deps.bus.on('check.result', (result) => void this.serial(() => this.observe(result)));
    this.worker.start();
    this.arm();
  }

  async stop(deadline: number): Promise<void> {
    this.unsubscribe?.();
    clearTimeout(this.timer);
    await this.chain;
    await this.worker.stop(deadline);
    await this.dispatcher.close().catch((err: unknown) => this.logger.warn({ err }, 'notifier connection pool did not close cleanly'));
  }

  /** Evaluates every rule now; the timer does this when a pending alert is due. Resolves when changes are stored. */
  evaluateNow(): Promise<void> {
    return this.serial(() => this.applyAll(this.rules.map((rule) => [rule, rule.evaluate()])));
  }

  /** The open (pending or firing) alerts as this process sees them. */
  openAlerts(): Alert[] {
    return this.rules.flatMap((rule) => (rule.openAlert ? [rule.openAlert] : []));
  }

  private serial(task: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(task).catch((err: unknown) => this.logger.error({ err }, 'alert evaluation failed'));
    return this.chain;
  }

  private observe(result: CheckResult): Promise<void> {
    return this.applyAll(this.rules.map((rule) => [rule, rule.observe(result)]));
  }

  private async applyAll(transitions: [CheckDownRule, AlertTransition | undefined][]): Promise<void> {
    try {
      for (const [rule, transition] of transitions) if (transition) await this.apply(rule, transition);
    } finally {
      this.arm();
    }
  }

  private async apply(rule: CheckDownRule, { alert, notify }: AlertTransition): Promise<void> {
    const { store, clock } = this.deps;
    // Notices go in before the state change is stored: a crash in between repeats a notice
    // (at-least-once), it never loses one.
    if (notify !== undefined) {
      const now = clock.now();
      const payload = notificationPayload(alert, notify, now);
      for (const receiver of rule.config.receivers) {
        await store.outbox.enqueue({ alertId: alert.id, receiver, kind: notify, payload, createdAt: now });
      }
    }
    await store.alerts.upsert(alert);
    const line = { alert: alert.id, rule: alert.rule, severity: alert.severity, summary: alert.summary };
    if (alert.state === 'firing') this.logger.warn(line, 'alert firing');
    else if (alert.state === 'resolved') this.logger.info({ ...line, notified: notify !== undefined }, 'alert resolved');
    else this.logger.info(line, 'alert pending');
    this.deps.bus.emit('alert.changed', alert);
    if (notify !== undefined) this.worker.wake();
  }

  /** Sets one timer for the earliest moment a pending alert is due to fire. */
  private arm(): void {
    clearTimeout(this.timer);
    const due = this.rules.map((rule) => rule.firesAt()).filter((at): at is number => at !== undefined);
    if (due.length === 0) return;
    this.timer = setTimeout(() => void this.evaluateNow(), Math.max(0, Math.min(...due) - this.deps.clock.now()));
    this.timer.unref();
  }

  private async restore(): Promise<void> {
    const { store } = this.deps;
    const byId = new Map(this.rules.map((rule) => [rule.alertId, rule]));
    for (let alert of await store.alerts.open()) {
      const rule = byId.get(alert.id);
      if (rule === undefined) {
        this.logger.warn({ alert: alert.id, rule: alert.rule }, 'open alert belongs to a rule that is no longer configured; left as it is');
        continue;
      }
      if (alert.state === 'pending') {
        // A crash between enqueueing the firing notice and storing the firing state leaves a
        // pending alert whose receivers will hear it fire: treat it as firing so they hear it resolve.
        const notices = await store.outbox.list(alert.id);
        const fired = notices.find((n) => n.kind === 'firing' && n.createdAt >= alert.pendingSince);
        if (fired) {
          alert = { ...alert, state: 'firing', firedAt: fired.createdAt, updatedAt: this.deps.clock.now() };
          await store.alerts.upsert(alert);
        }
      }
      rule.restore(alert);
      this.logger.info({ alert: alert.id, state: alert.state }, 'open alert restored');
    }
  }
}
