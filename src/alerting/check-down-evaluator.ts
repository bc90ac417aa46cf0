import type { Component } from '../core/lifecycle.js';
import type { ServiceDeps } from '../core/service-deps.js';
import type { Alert, CheckResult } from '../store/records.js';
import type { Logger } from '../telemetry/logger.js';
import { CheckDownRule } from './check-down-rule.js';
import type { AlertTransition } from './check-down-rule.js';

/**
 * Evaluates the `checkDown` rules on every check result and on a timer (so `for` is honoured between
 * results), stores every alert change and publishes it as `alert.changed`; AlertingService takes
 * it from there. Open alerts are restored from the store at start.
 */
export class CheckDownEvaluator implements Component {
  readonly name = 'alert-rules';
  private readonly rules: CheckDownRule[];
  private readonly logger: Logger;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: ServiceDeps) {
    this.logger = deps.logger.child({ component: 'alert-rules' });
    this.rules = deps.config.alerting.rules.map((rule) => new CheckDownRule(rule, deps.clock));
  }

  async start(): Promise<void> {
    const byId = new Map(this.rules.map((rule) => [rule.alertId, rule]));
    for (const alert of await this.deps.store.alerts.open()) {
      const rule = byId.get(alert.id);
      if (rule === undefined) this.logger.warn({ alert: alert.id, rule: alert.rule }, 'open alert belongs to a rule that is no longer configured; left as it is');
      else rule.restore(alert);
    }
    this.unsubscribe = this.deps.bus.on('check.result', (result) => void this.serial(() => this.observe(result)));
    this.arm();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    clearTimeout(this.timer);
    await this.chain;
  }

  /** Evaluates every rule now; the timer does this when a pending alert is due. Resolves when changes are stored and published. */
  evaluateNow(): Promise<void> {
    return this.serial(() => this.applyAll(this.rules.map((rule) => rule.evaluate())));
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
    return this.applyAll(this.rules.map((rule) => rule.observe(result)));
  }

  private async applyAll(transitions: (AlertTransition | undefined)[]): Promise<void> {
    try {
      for (const transition of transitions) {
        if (transition === undefined) continue;
        const { alert } = transition;
        await this.deps.store.alerts.upsert(alert);
        const line = { alert: alert.id, rule: alert.rule, severity: alert.severity, summary: alert.summary };
        if (alert.state === 'firing') this.logger.warn(line, 'alert firing');
        else this.logger.info(line, `alert ${alert.state}`);
        this.deps.bus.emit('alert.changed', alert);
      }
    } finally {
      this.arm();
    }
  }

  /** Sets one timer for the earliest moment a pending alert is due to fire. */
  private arm(): void {
    clearTimeout(this.timer);
    const due = this.rules.map((rule) => rule.firesAt()).filter((at): at is number => at !== undefined);
    if (due.length === 0) return;
    this.timer = setTimeout(() => void this.evaluateNow(), Math.max(0, Math.min(...due) - this.deps.clock.now()));
    this.timer.unref();
  }
}
