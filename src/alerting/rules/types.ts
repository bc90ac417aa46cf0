import type { AlertRuleConfig } from '../../config/alert-rule-schema.js';
import type { Severity } from '../../store/records.js';

/** What a rule sees for one subject (group) at one evaluation. */
export interface Observation {
  /** The labels that tell this subject apart (`by` labels, `check`…); empty for a rule with one subject. */
  labels: Record<string, string>;
  /** What was measured; null when the rule measures no number (check down, absence). */
  value: number | null;
  /** The level the condition is at; null when it is clear. */
  level: Severity | null;
  /** A fact for the default summary, e.g. the last check failure. */
  detail?: string;
}

/** `unknown`: not enough data to judge (just started, too few samples); the alert keeps its state. */
export type Judgement = Observation | 'unknown';

/**
 * Evaluates one rule. Returns a judgement per subject key; an open alert whose key is missing
 * is judged clear (its series or events are gone).
 */
export interface RuleEvaluator {
  readonly config: AlertRuleConfig;
  /** What wakes the rule besides the evaluation timer. */
  readonly trigger: 'timer' | 'check.result' | 'security.event';
  evaluate(now: number, reader: MetricReader): Promise<Map<string, Judgement>>;
}

/** One time series of a metric, as read from the registry. */
export interface Series {
  /** Name of the exposed series: the metric's, or `<name>_bucket`/`_sum`/`_count` for a histogram. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricRead {
  type: string;
  series: Series[];
}

/** Reads metrics from the process's registry; one evaluation pass reads each metric once. */
export type MetricReader = (metric: string) => Promise<MetricRead | undefined>;

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export function severityRank(severity: Severity): number {
  return RANK[severity];
}

/** The key of a subject: its labels sorted by name, Prometheus-style (`a="1",b="2"`); '' when it has none. */
export function subjectKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`)
    .join(',');
}

/** The level a value is at for `op`, `warning` and `critical`; null when neither is crossed (and for NaN). */
export function levelOf(value: number, op: '>' | '>=' | '<' | '<=', warning: number | undefined, critical: number | undefined): Severity | null {
  if (Number.isNaN(value)) return null;
  const crosses = (level: number | undefined) =>
    level !== undefined && (op === '>' ? value > level : op === '>=' ? value >= level : op === '<' ? value < level : value <= level);
  if (crosses(critical)) return 'critical';
  if (crosses(warning)) return 'warning';
  return null;
}
