import { z } from 'zod';
import { duration, httpUrl, name } from './schema-parts.js';

/**
 * Alert rules (`alerting.rules`): threshold, check-state, event and absence rules, their labels,
 * templated annotations and actions. Cross-references (checks, receivers, routes, template labels)
 * are checked by `checkAlertRules` from the config's refinement, so every problem has a YAML path.
 */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** `{{ $labels.name }}` or `{{ $value }}`: the subset of Prometheus templating Vigil renders (and exports unchanged). */
const PLACEHOLDER = /\{\{\s*(.*?)\s*\}\}/g;
const LABEL_REF = /^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/;

const metricName = z.string().regex(METRIC_NAME, 'a metric name is letters, digits, _ and :, not starting with a digit');
const labelName = z.string().regex(LABEL_NAME, 'a label name is letters, digits and _, not starting with a digit');

const template = z
  .string()
  .max(1000)
  .superRefine((text, ctx) => {
    for (const [, inner] of text.matchAll(PLACEHOLDER)) {
      if (inner !== '$value' && !LABEL_REF.test(inner ?? '')) {
        ctx.addIssue({ code: 'custom', message: `unknown placeholder '{{ ${inner ?? ''} }}': use {{ $labels.NAME }} or {{ $value }}` });
      }
    }
  });

const regex = z.string().superRefine((value, ctx) => {
  try {
    new RegExp(`^(?:${value})$`);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(err as Error).message}` });
  }
});

const matchers = z
  .record(labelName, regex)
  .default({})
  .describe('Label matchers: each value is a regular expression the whole label value must match (Prometheus `=~`), e.g. `{ status: "5.." }`.');

const op = z.enum(['>', '>=', '<', '<=']).default('>').describe('How the value is compared with `warning` and `critical`: `>` fires above them, `<` below.');
const level = (what: string) => z.number().finite().optional().describe(`Value at which the alert is ${what}.`);

const commandAction = z.strictObject({
  type: z.literal('command').describe('Runs a program when the alert fires.'),
  argv: z.array(z.string().min(1)).min(1).describe('Program and arguments, run without a shell; `{{ $labels.x }}`/`{{ $value }}` are rendered in each.'),
  shell: z.boolean().default(false).describe('Run `argv[0]` through `/bin/sh -c` instead (only when you need shell syntax).'),
  timeout: duration.prefault('30s').describe('The process group is killed (SIGTERM, then SIGKILL after 2s) when it runs longer.'),
  maxRuns: z.number().int().min(1).max(1000).default(3).describe('At most this many runs per `per` window for this rule; later firings are recorded as skipped.'),
  per: duration.prefault('1h').describe('The window `maxRuns` counts in.'),
});

const webhookAction = z.strictObject({
  type: z.literal('webhook').describe('POSTs the alert as JSON when it fires.'),
  url: httpUrl.describe('URL that receives the POST.'),
  headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers, e.g. an authorization token.'),
  timeout: duration.prefault('10s').describe('Time allowed for the request.'),
  maxRuns: z.number().int().min(1).max(1000).default(10).describe('At most this many calls per `per` window for this rule.'),
  per: duration.prefault('1h').describe('The window `maxRuns` counts in.'),
});

const routeFallbackAction = z.strictObject({
  type: z.literal('routeFallback').describe("Sends a gateway route's traffic to its fallback targets while the alert fires; back to the primaries when it resolves."),
  route: name('route name').describe('A route with `fallback: true` targets.'),
  maxRuns: z.number().int().min(1).max(1000).default(10).describe('At most this many switches per `per` window for this rule.'),
  per: duration.prefault('1h').describe('The window `maxRuns` counts in.'),
});

export const alertAction = z.discriminatedUnion('type', [commandAction, webhookAction, routeFallbackAction]);

const common = {
  name: name('rule name').describe('Identifies the rule in alerts and notifications.'),
  labels: z.record(labelName, z.string().max(200)).default({}).describe('Labels added to every alert of the rule (for routing and grouping).'),
  annotations: z
    .record(labelName, template)
    .default({})
    .describe('Texts carried by the alert, e.g. `summary`, `description`, `runbook`; `{{ $labels.x }}` and `{{ $value }}` are rendered.'),
  summary: template.optional().describe('Shorthand for `annotations.summary`: one line for notifications.'),
  for: duration.prefault('0s').describe('How long the condition must hold before the alert fires (pending until then).'),
  keepFiringFor: duration.prefault('0s').describe('How long a firing alert stays firing after its condition clears (damps flapping); also delays a critical → warning step down.'),
  receivers: z.array(name('receiver name')).default([]).describe('Receivers notified when the alert fires and resolves.'),
  actions: z.array(alertAction).default([]).describe('What Vigil does when the alert fires (see docs/alerting.md#actions).'),
};

const thresholdRule = z.strictObject({
  ...common,
  kind: z.literal('threshold').describe('Compares a Vigil metric with warning and critical levels.'),
  metric: metricName.describe('A metric Vigil exports (see `/metrics`), e.g. `vigil_gateway_requests_total`.'),
  match: matchers,
  by: z.array(labelName).default([]).describe('Labels that split the metric into one alert each (e.g. `[route]`); matching series are summed per group.'),
  aggregate: z
    .enum(['instant', 'avg', 'min', 'max', 'p95', 'rate', 'increase', 'ratio'])
    .default('instant')
    .describe(
      '`instant`: the latest value; `avg`/`min`/`max`/`p95` over `window` (p95 of a histogram uses its buckets); `rate` per second and `increase` over `window`; `ratio`: increase of `metric` divided by increase of `divideBy`.',
    ),
  window: duration.optional().describe('The window of every aggregate but `instant`.'),
  divideBy: z
    .strictObject({
      metric: metricName.optional().describe('Denominator metric; default the same metric.'),
      match: matchers,
    })
    .optional()
    .describe('Divide by this series (aggregated the same way), e.g. available memory by total memory.'),
  op,
  warning: level('warning'),
  critical: level('critical'),
});

const checkStateRule = z.strictObject({
  ...common,
  kind: z.enum(['checkState', 'checkDown']).describe('`checkState` (or its old name `checkDown`): fires when a check has been down continuously for `for`.'),
  check: name('check name').optional().describe('The monitored check; omit to watch every check (one alert each).'),
  checkTypes: z.array(z.string()).optional().describe('Only checks of these types (e.g. `[redis, postgres]`) when `check` is omitted.'),
  severity: z.enum(['info', 'warning', 'critical']).default('critical').describe('Carried in the alert and its notifications.'),
});

const eventRule = z.strictObject({
  ...common,
  kind: z.literal('event').describe('Counts security events of some types in a sliding window.'),
  types: z.array(z.string().min(1).max(100)).min(1).describe('Event types to count, e.g. `auth.login_failed`; a trailing `*` matches a prefix (`auth.*`).'),
  by: z.enum(['sourceIp', 'identity', 'type', 'severity']).optional().describe('Count per value of this field (one alert each), e.g. `sourceIp`.'),
  window: duration.prefault('5m').describe('How far back events are counted.'),
  op,
  warning: level('warning (an event count)'),
  critical: level('critical (an event count)'),
});

const absenceRule = z.strictObject({
  ...common,
  kind: z.literal('absence').describe('Fires when a metric has no matching series (or, with `stale`, when it stopped changing).'),
  metric: metricName.describe('A metric Vigil exports.'),
  match: matchers,
  stale: duration.optional().describe('Also absent when the matching series (summed) has not changed for this long, e.g. a counter no longer counting.'),
  severity: z.enum(['info', 'warning', 'critical']).default('warning').describe('Carried in the alert and its notifications.'),
});

export const alertRule = z.discriminatedUnion('kind', [thresholdRule, checkStateRule, eventRule, absenceRule]);

export const alertingRulesFields = {
  rules: z.array(alertRule).default([]).describe('Alert rules (see docs/alerting.md#rules).'),
  rulePack: z
    .enum(['none', 'default'])
    .default('none')
    .describe('`default` adds the built-in rule pack (5xx ratio, checks down, TLS expiry, breakers, latency, host resources, auth failures); see docs/alerting.md#rule-pack.'),
  evaluationInterval: duration.prefault('15s').describe('How often metric rules sample the metrics and every rule is evaluated.'),
};

export type AlertRuleConfig = z.output<typeof alertRule>;
export type AlertActionConfig = z.output<typeof alertAction>;
export type ThresholdRuleConfig = Extract<AlertRuleConfig, { kind: 'threshold' }>;
export type CheckStateRuleConfig = Extract<AlertRuleConfig, { kind: 'checkState' | 'checkDown' }>;
export type EventRuleConfig = Extract<AlertRuleConfig, { kind: 'event' }>;
export type AbsenceRuleConfig = Extract<AlertRuleConfig, { kind: 'absence' }>;

/** Labels every alert of the rule may carry, for checking `{{ $labels.x }}` at load. */
export function ruleLabelNames(rule: AlertRuleConfig): Set<string> {
  const names = new Set(['rule', 'severity', ...Object.keys(rule.labels)]);
  if (rule.kind === 'threshold') for (const label of rule.by) names.add(label);
  if (rule.kind === 'checkState' || rule.kind === 'checkDown') names.add('check');
  if (rule.kind === 'event' && rule.by !== undefined) names.add(rule.by);
  return names;
}

interface RuleContext {
  checks: ReadonlyMap<string, string>;
  receivers: ReadonlySet<string>;
  /** Route name → whether it has fallback targets. */
  routes: ReadonlyMap<string, boolean>;
}

type Path = (string | number)[];

/** Cross-checks of `alerting.rules` against the rest of the config; each problem gets its YAML path. */
export function checkAlertRules(rules: readonly AlertRuleConfig[], context: RuleContext, ctx: z.RefinementCtx): void {
  rules.forEach((rule, i) => {
    const path: Path = ['alerting', 'rules', i];
    const issue = (at: Path, message: string) => ctx.addIssue({ code: 'custom', path: [...path, ...at], message });
    rule.receivers.forEach((receiver, j) => {
      if (!context.receivers.has(receiver)) issue(['receivers', j], `no receiver named '${receiver}' in alerting.receivers`);
    });
    const labels = ruleLabelNames(rule);
    const texts: [Path, string][] = Object.entries(rule.annotations).map(([key, text]) => [['annotations', key], text]);
    if (rule.summary !== undefined) texts.push([['summary'], rule.summary]);
    rule.actions.forEach((action, j) => {
      if (action.type === 'command') action.argv.forEach((arg, k) => texts.push([['actions', j, 'argv', k], arg]));
      if (action.type === 'routeFallback') {
        const hasFallback = context.routes.get(action.route);
        if (hasFallback === undefined) issue(['actions', j, 'route'], `no route named '${action.route}' in gateway.routes`);
        else if (!hasFallback) issue(['actions', j, 'route'], `route '${action.route}' has no fallback targets (upstreams.targets[].fallback: true)`);
      }
    });
    for (const [at, text] of texts) {
      for (const [, inner] of text.matchAll(PLACEHOLDER)) {
        const label = LABEL_REF.exec(inner ?? '')?.[1];
        if (label !== undefined && !labels.has(label)) issue(at, `{{ $labels.${label} }}: alerts of this rule have no label '${label}' (they have: ${[...labels].join(', ')})`);
      }
    }
    switch (rule.kind) {
      case 'threshold':
        if (rule.warning === undefined && rule.critical === undefined) issue([], 'set `warning`, `critical` or both');
        if (rule.aggregate !== 'instant' && rule.window === undefined) issue(['window'], `aggregate '${rule.aggregate}' needs a window`);
        if (rule.aggregate === 'ratio' && rule.divideBy === undefined) issue(['divideBy'], "aggregate 'ratio' needs divideBy (the denominator)");
        checkLevels(rule.op, rule.warning, rule.critical, issue);
        break;
      case 'event':
        if (rule.warning === undefined && rule.critical === undefined) issue([], 'set `warning`, `critical` or both');
        checkLevels(rule.op, rule.warning, rule.critical, issue);
        break;
      case 'checkState':
      case 'checkDown':
        if (rule.check !== undefined && !context.checks.has(rule.check)) issue(['check'], `no check named '${rule.check}' in monitor.checks`);
        if (rule.check !== undefined && rule.checkTypes !== undefined) issue(['checkTypes'], 'use either `check` or `checkTypes`');
        break;
      case 'absence':
        break;
    }
  });
}

function checkLevels(op: string, warning: number | undefined, critical: number | undefined, issue: (at: Path, message: string) => void): void {
  if (warning === undefined || critical === undefined) return;
  const above = op.startsWith('>');
  if (above ? critical < warning : critical > warning) {
    issue(['critical'], `with op '${op}' critical (${critical}) must be ${above ? 'at or above' : 'at or below'} warning (${warning})`);
  }
}
