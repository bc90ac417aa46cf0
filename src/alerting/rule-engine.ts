import type { AlertRuleConfig } from '../config/alert-rule-schema.js';
import type { Component } from '../core/lifecycle.js';
import type { ServiceDeps } from '../core/service-deps.js';
import { formatDuration } from '../core/duration.js';
import type { Alert, CheckResult, SecurityEvent, Severity } from '../store/records.js';
import type { Logger } from '../telemetry/logger.js';
import type { ActionRunner } from './actions.js';
import { AbsenceEvaluator } from './rules/absence.js';
import { CheckStateEvaluator } from './rules/check-state.js';
import { EventEvaluator } from './rules/event.js';
import { rulePack } from './rules/pack.js';
import { formatValue, renderTemplate } from './rules/template.js';
import { ThresholdEvaluator } from './rules/threshold.js';
import type { Judgement, MetricRead, MetricReader, Observation, RuleEvaluator } from './rules/types.js';
import { severityRank } from './rules/types.js';

export interface RuleEngineDeps extends ServiceDeps {
  /** Runs rule actions on firing; without it rules with actions only log that they would run. */
  actions?: ActionRunner;
}

/** Event history read back at start, per event rule, so a restart does not forget an attack in progress. */
const EVENT_HISTORY_LIMIT = 10_000;

/**
 * The rule engine: evaluates every alert rule (threshold, check-state, event, absence), drives
 * each alert through inactive → pending → firing → resolved, persists every change and publishes
 * it as `alert.changed` (receivers and actions hang off that). Open alerts are restored from the
 * store at start, so a restart neither forgets a firing alert nor publishes it again.
 */
export class RuleEngine implements Component {
  readonly name = 'alert-rules';
  readonly rules: AlertRuleConfig[];
  private readonly evaluators: RuleEvaluator[];
  private readonly eventEvaluators: EventEvaluator[];
  private readonly checkEvaluators: CheckStateEvaluator[];
  private readonly open = new Map<string, Alert>();
  /** Firing alerts whose level dropped (critical → warning): since when, for keepFiringFor. */
  private readonly stepDownSince = new Map<string, number>();
  private readonly logger: Logger;
  private chain: Promise<void> = Promise.resolve();
  private interval: NodeJS.Timeout | undefined;
  private due: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly deps: RuleEngineDeps) {
    this.logger = deps.logger.child({ component: 'alert-rules' });
    const { alerting, monitor } = deps.config;
    this.rules = [...alerting.rules, ...rulePack(alerting.rulePack, deps.config)];
    const checks = new Map(monitor.checks.map((c) => [c.name, c.type]));
    this.evaluators = this.rules.map((rule): RuleEvaluator => {
      switch (rule.kind) {
        case 'threshold':
          return new ThresholdEvaluator(rule);
        case 'checkState':
        case 'checkDown':
          return new CheckStateEvaluator(rule, checks);
        case 'event':
          return new EventEvaluator(rule);
        case 'absence':
          return new AbsenceEvaluator(rule);
      }
    });
    this.eventEvaluators = this.evaluators.filter((e) => e instanceof EventEvaluator);
    this.checkEvaluators = this.evaluators.filter((e) => e instanceof CheckStateEvaluator);
  }

  async start(): Promise<void> {
    this.warnUnknownMetrics();
    await this.restore();
    await this.loadEventHistory();
    const { bus } = this.deps;
    this.unsubscribe.push(
      bus.on('check.result', (result) => this.onCheckResult(result)),
      bus.on('security.event', (event) => this.onSecurityEvent(event)),
    );
    this.interval = setInterval(() => void this.evaluateNow(), this.deps.config.alerting.evaluationInterval);
    this.interval.unref();
    await this.evaluateNow();
  }

  async stop(deadline: number): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe.splice(0)) off();
    clearInterval(this.interval);
    clearTimeout(this.due);
    await this.chain;
    await this.deps.actions?.stop(deadline);
  }

  /** Samples the metrics and evaluates every rule now. Resolves when the changes are stored and published. */
  evaluateNow(): Promise<void> {
    return this.serial(() => this.evaluate(this.evaluators, this.deps.clock.now()));
  }

  /** The open (pending or firing) alerts. */
  openAlerts(): Alert[] {
    return [...this.open.values()];
  }

  // Results and events are taken in order, each judged at the moment it arrived. Most match no
  // rule (every refused request is a security event): that is decided here, synchronously, so
  // they queue no evaluation and allocate nothing.
  private onCheckResult(result: CheckResult): void {
    if (!anyMatches(this.checkEvaluators, result)) return;
    const now = this.deps.clock.now();
    void this.serial(() => this.evaluate(this.checkEvaluators.filter((e) => e.observe(result)), now));
  }

  private onSecurityEvent(event: SecurityEvent): void {
    if (!anyMatches(this.eventEvaluators, event)) return;
    const now = this.deps.clock.now();
    void this.serial(() => this.evaluate(this.eventEvaluators.filter((e) => e.observe(event)), now));
  }

  private serial(task: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(task).catch((err: unknown) => this.logger.error({ err }, 'alert rule evaluation failed'));
    return this.chain;
  }

  private async evaluate(evaluators: RuleEvaluator[], now: number): Promise<void> {
    if (this.stopped || evaluators.length === 0) return;
    const reads = new Map<string, Promise<MetricRead | undefined>>();
    const reader: MetricReader = (metric) => {
      let read = reads.get(metric);
      if (read === undefined) {
        read = this.readMetric(metric);
        reads.set(metric, read);
      }
      return read;
    };
    try {
      for (const evaluator of evaluators) {
        const rule = evaluator.config;
        let judgements: Map<string, Judgement>;
        try {
          judgements = await evaluator.evaluate(now, reader);
        } catch (err) {
          this.logger.error({ err, rule: rule.name }, 'alert rule could not be evaluated');
          continue;
        }
        const seen = new Set<string>();
        for (const [key, judgement] of judgements) {
          const id = alertId(rule.name, key);
          seen.add(id);
          if (judgement !== 'unknown') await this.step(rule, id, judgement, now);
        }
        for (const alert of [...this.open.values()]) {
          if (alert.rule === rule.name && !seen.has(alert.id)) await this.step(rule, alert.id, null, now);
        }
      }
    } finally {
      this.arm();
    }
  }

  private async readMetric(metric: string): Promise<MetricRead | undefined> {
    const found = this.deps.registry.getSingleMetric(metric);
    if (found === undefined) return undefined;
    const data = await found.get();
    return {
      type: String(data.type),
      series: data.values.map((v) => ({
        name: (v as { metricName?: string }).metricName ?? metric,
        labels: Object.fromEntries(Object.entries(v.labels).map(([k, l]) => [k, String(l)])),
        value: v.value,
      })),
    };
  }

  /** Moves one alert on by one judgement (null: the subject is gone, so the condition is clear). */
  private async step(rule: AlertRuleConfig, id: string, observation: Observation | null, now: number): Promise<void> {
    const open = this.open.get(id);
    const level = observation?.level ?? null;
    if (observation !== null && level !== null) {
      const fresh = this.describe(rule, observation, level);
      if (open === undefined) {
        const fires = rule.for === 0;
        await this.change({
          id,
          rule: rule.name,
          ...fresh,
          severity: level,
          state: fires ? 'firing' : 'pending',
          pendingSince: now,
          firedAt: fires ? now : null,
          resolvedAt: null,
          updatedAt: now,
          previousState: null,
          previousSeverity: null,
          clearedAt: null,
        });
        return;
      }
      if (open.state === 'pending') {
        if (now - open.pendingSince >= rule.for) {
          await this.change({ ...open, ...fresh, severity: level, state: 'firing', firedAt: now, updatedAt: now, previousState: 'pending', previousSeverity: open.severity });
        } else if (level !== open.severity) {
          await this.change({ ...open, ...fresh, severity: level, updatedAt: now, previousState: 'pending', previousSeverity: open.severity });
        } else this.open.set(id, { ...open, value: fresh.value });
        return;
      }
      const severity = this.firingSeverity(rule, id, open.severity, level, now);
      if (severity !== open.severity) {
        await this.change({ ...open, ...fresh, severity, updatedAt: now, previousState: 'firing', previousSeverity: open.severity, clearedAt: null });
      } else if ((open.clearedAt ?? null) !== null) {
        // The condition came back within keepFiringFor: still the same firing alert, nothing to publish.
        const kept = { ...open, value: fresh.value, clearedAt: null, updatedAt: now };
        await this.deps.store.alerts.upsert(kept);
        this.open.set(id, kept);
      } else this.open.set(id, { ...open, value: fresh.value });
      return;
    }
    if (open === undefined) return;
    this.stepDownSince.delete(id);
    if (open.state === 'firing' && rule.keepFiringFor > 0) {
      const clearedAt = open.clearedAt ?? now;
      if (now - clearedAt < rule.keepFiringFor) {
        if ((open.clearedAt ?? null) === null) {
          const held = { ...open, clearedAt, updatedAt: now };
          await this.deps.store.alerts.upsert(held);
          this.open.set(id, held);
        }
        return;
      }
    }
    const value = observation?.value ?? open.value ?? null;
    await this.change({ ...open, value, state: 'resolved', resolvedAt: now, updatedAt: now, previousState: open.state, previousSeverity: open.severity, clearedAt: null });
  }

  /** A firing alert steps up at once and steps down only after keepFiringFor at the lower level. */
  private firingSeverity(rule: AlertRuleConfig, id: string, current: Severity, level: Severity, now: number): Severity {
    if (severityRank(level) >= severityRank(current)) {
      this.stepDownSince.delete(id);
      return level;
    }
    const since = this.stepDownSince.get(id) ?? now;
    this.stepDownSince.set(id, since);
    if (now - since < rule.keepFiringFor) return current;
    this.stepDownSince.delete(id);
    return level;
  }

  private describe(rule: AlertRuleConfig, observation: Observation, level: Severity): Pick<Alert, 'labels' | 'annotations' | 'summary' | 'value'> {
    // `severity` is a label too, so routes, silences and inhibition can match on it.
    const labels = { ...rule.labels, ...observation.labels, rule: rule.name, severity: level };
    const annotations = Object.fromEntries(Object.entries(rule.annotations).map(([key, text]) => [key, renderTemplate(text, labels, observation.value)]));
    if (rule.summary !== undefined) annotations.summary = renderTemplate(rule.summary, labels, observation.value);
    const summary = annotations.summary ?? defaultSummary(rule, observation, level);
    return { labels, annotations, summary, value: observation.value };
  }

  private async change(alert: Alert): Promise<void> {
    await this.deps.store.alerts.upsert(alert);
    if (alert.state === 'resolved') this.open.delete(alert.id);
    else this.open.set(alert.id, alert);
    const line = { alert: alert.id, rule: alert.rule, severity: alert.severity, value: alert.value, summary: alert.summary };
    if (alert.state === 'firing') this.logger.warn({ ...line, from: alert.previousState, fromSeverity: alert.previousSeverity }, 'alert firing');
    else if (alert.state === 'resolved') this.logger.info({ ...line, from: alert.previousState }, 'alert resolved');
    else this.logger.info(line, 'alert pending');
    this.deps.bus.emit('alert.changed', alert);
    const rule = this.rules.find((r) => r.name === alert.rule);
    if (rule !== undefined && rule.actions.length > 0) {
      if (this.deps.actions) this.deps.actions.onChange(rule, alert);
      else this.logger.warn({ alert: alert.id }, 'rule has actions but no action runner is configured');
    }
  }

  /** One timer for the earliest moment something is due: a pending alert's `for`, a keepFiringFor hold. */
  private arm(): void {
    clearTimeout(this.due);
    if (this.stopped) return;
    const times: number[] = [];
    for (const alert of this.open.values()) {
      const rule = this.rules.find((r) => r.name === alert.rule);
      if (rule === undefined) continue;
      if (alert.state === 'pending') times.push(alert.pendingSince + rule.for);
      if (alert.clearedAt !== null && alert.clearedAt !== undefined) times.push(alert.clearedAt + rule.keepFiringFor);
      const stepDown = this.stepDownSince.get(alert.id);
      if (stepDown !== undefined) times.push(stepDown + rule.keepFiringFor);
    }
    if (times.length === 0) return;
    this.due = setTimeout(() => void this.evaluateNow(), Math.max(0, Math.min(...times) - this.deps.clock.now()));
    this.due.unref();
  }

  private async restore(): Promise<void> {
    const names = new Set(this.rules.map((r) => r.name));
    for (const alert of await this.deps.store.alerts.open()) {
      if (!names.has(alert.rule)) {
        this.logger.warn({ alert: alert.id, rule: alert.rule }, 'open alert belongs to a rule that is no longer configured; left as it is');
        continue;
      }
      this.open.set(alert.id, alert);
      this.logger.info({ alert: alert.id, state: alert.state }, 'open alert restored');
      const rule = this.rules.find((r) => r.name === alert.rule);
      if (rule !== undefined && rule.actions.length > 0) this.deps.actions?.restore(rule, alert);
    }
  }

  private async loadEventHistory(): Promise<void> {
    const now = this.deps.clock.now();
    for (const evaluator of this.evaluators) {
      if (!(evaluator instanceof EventEvaluator)) continue;
      const { types, window } = evaluator.config;
      const exact = types.every((t) => !t.endsWith('*'));
      const batches = exact ? await Promise.all(types.map((t) => this.deps.store.securityEvents.recent(EVENT_HISTORY_LIMIT, t))) : [await this.deps.store.securityEvents.recent(EVENT_HISTORY_LIMIT)];
      const events = batches.flat().filter((e) => e.at > now - window && e.at <= now);
      events.sort((a, b) => a.at - b.at);
      for (const event of events) evaluator.observe(event);
    }
  }

  /** Metric names can only be checked against the registry at start: a typo is a warning, not a failed start. */
  private warnUnknownMetrics(): void {
    for (const rule of this.rules) {
      const metrics = rule.kind === 'threshold' ? [rule.metric, rule.divideBy?.metric ?? rule.metric] : rule.kind === 'absence' ? [rule.metric] : [];
      for (const metric of new Set(metrics)) {
        if (this.deps.registry.getSingleMetric(metric) === undefined) {
          this.logger.warn({ rule: rule.name, metric }, 'alert rule names a metric this Vigil does not export (yet); it stays without data until one appears');
        }
      }
    }
  }
}

function anyMatches<T>(evaluators: readonly { matches(item: T): boolean }[], item: T): boolean {
  for (const evaluator of evaluators) if (evaluator.matches(item)) return true;
  return false;
}

/** The alert's ID: the rule name, plus the subject's labels when the rule watches several subjects. */
export function alertId(rule: string, key: string): string {
  return key === '' ? rule : `${rule}{${key}}`;
}

function defaultSummary(rule: AlertRuleConfig, observation: Observation, level: Severity): string {
  const subject = Object.entries(observation.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const about = subject === '' ? '' : ` (${subject})`;
  switch (rule.kind) {
    case 'threshold': {
      const threshold = level === 'critical' ? rule.critical : rule.warning;
      const what = rule.aggregate === 'instant' ? rule.metric : `${rule.aggregate} of ${rule.metric} over ${formatDuration(rule.window ?? 0)}`;
      return `${what} is ${formatValue(observation.value)}${about}, ${rule.op} ${threshold ?? ''} (${level})`;
    }
    case 'checkState':
    case 'checkDown':
      return `check ${observation.labels.check ?? ''} is down: ${observation.detail ?? ''}`;
    case 'event':
      return `${formatValue(observation.value)} ${rule.types.join('/')} events in ${formatDuration(rule.window)}${about} (${level})`;
    case 'absence':
      return observation.detail ?? `no data for ${rule.metric}`;
  }
}
