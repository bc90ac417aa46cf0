import type { RuleConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Alert, CheckResult, NotificationKind } from '../store/records.js';

/** A change of an alert's state, and the notice it calls for (if any). */
export interface AlertTransition {
  alert: Alert;
  notify: NotificationKind | undefined;
}

/**
 * The `checkDown` rule as a state machine over one check's results:
 * inactive → pending (first down result) → firing (down continuously for `for`) → resolved (up again).
 * A pending alert whose check recovers before `for` resolves without any notice. Pure: persistence
 * and notices are the caller's job, time comes from the injected clock.
 */
export class CheckDownRule {
  /** The open (pending or firing) alert, if any. */
  private alert: Alert | undefined;
  /** The latest result when it is down. Firing needs fresh evidence: none after a restart until a new result. */
  private lastDown: CheckResult | undefined;

  constructor(readonly config: RuleConfig, private readonly clock: Clock) {}

  /** Alert IDs are the rule name: one rule watches one check, so one open alert per rule. */
  get alertId(): string {
    return this.config.name;
  }

  get openAlert(): Alert | undefined {
    return this.alert;
  }

  /** Takes back an open alert read from the store after a restart. */
  restore(alert: Alert): void {
    this.alert = alert;
    this.lastDown = undefined;
  }

  observe(result: CheckResult): AlertTransition | undefined {
    // A pending result (failing, retries not used up) is no evidence either way.
    if (result.check !== this.config.check || result.status === 'pending') return undefined;
    if (result.status === 'down') {
      this.lastDown = result;
      if (this.alert === undefined) {
        this.alert = this.pending(result);
        return this.evaluate() ?? { alert: this.alert, notify: undefined };
      }
      return this.evaluate();
    }
    this.lastDown = undefined;
    const open = this.alert;
    if (open === undefined) return undefined;
    this.alert = undefined;
    const now = this.clock.now();
    return {
      alert: { ...open, state: 'resolved', resolvedAt: now, updatedAt: now },
      notify: open.state === 'firing' ? 'resolved' : undefined,
    };
  }

  /** Fires a pending alert whose `for` has passed; called on every result and on a timer between results. */
  evaluate(): AlertTransition | undefined {
    const open = this.alert;
    if (open === undefined || open.state !== 'pending' || this.lastDown === undefined) return undefined;
    const now = this.clock.now();
    if (now - open.pendingSince < this.config.for) return undefined;
    this.alert = { ...open, state: 'firing', firedAt: now, updatedAt: now, summary: this.summary(this.lastDown) };
    return { alert: this.alert, notify: 'firing' };
  }

  /** When the pending alert is due to fire, so a timer can evaluate exactly then; undefined when nothing is pending. */
  firesAt(): number | undefined {
    if (this.alert?.state !== 'pending' || this.lastDown === undefined) return undefined;
    return this.alert.pendingSince + this.config.for;
  }

  private pending(result: CheckResult): Alert {
    const now = this.clock.now();
    return {
      id: this.alertId,
      rule: this.config.name,
      severity: this.config.severity,
      state: 'pending',
      labels: { rule: this.config.name, check: this.config.check },
      summary: this.summary(result),
      pendingSince: result.at,
      firedAt: null,
      resolvedAt: null,
      updatedAt: now,
    };
  }

  private summary(result: CheckResult): string {
    return this.config.summary ?? `check ${this.config.check} is down: ${result.detail}`;
  }
}
