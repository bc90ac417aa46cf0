import { alertRule } from '../../config/alert-rule-schema.js';
import type { AlertRuleConfig } from '../../config/alert-rule-schema.js';
import type { VigilConfig } from '../../config/schema.js';

const DAY = 86_400;

/**
 * The built-in rule pack (`alerting.rulePack: default`), on the metrics Vigil itself exports. A rule
 * of yours with the same name replaces the pack's. Host rules are left out when
 * `monitor.system.enabled` is false (their metrics would not exist).
 */
const DEFAULT_PACK: { host: boolean; rule: Record<string, unknown> }[] = [
  {
    host: false,
    rule: {
      name: 'vigil-gateway-5xx-ratio',
      kind: 'threshold',
      metric: 'vigil_gateway_requests_total',
      match: { status: '5..' },
      divideBy: { match: {} },
      by: ['route'],
      aggregate: 'ratio',
      window: '5m',
      warning: 0.05,
      critical: 0.2,
      for: '2m',
      summary: 'route {{ $labels.route }}: {{ $value }} of requests answered 5xx over 5m',
    },
  },
  {
    host: false,
    rule: { name: 'vigil-check-down', kind: 'checkState', for: '2m', severity: 'critical', summary: 'check {{ $labels.check }} has been failing for more than 2 minutes' },
  },
  {
    host: false,
    rule: {
      name: 'vigil-datastore-down',
      kind: 'checkState',
      checkTypes: ['redis', 'postgres'],
      for: '30s',
      severity: 'critical',
      summary: 'Redis/PostgreSQL check {{ $labels.check }} cannot reach its server',
    },
  },
  {
    host: false,
    rule: {
      name: 'vigil-tls-expiry',
      kind: 'threshold',
      metric: 'vigil_tls_cert_expiry_seconds',
      by: ['check'],
      op: '<',
      warning: 30 * DAY,
      critical: 7 * DAY,
      summary: 'the certificate seen by check {{ $labels.check }} expires in {{ $value }} seconds',
    },
  },
  {
    host: false,
    rule: {
      name: 'vigil-breaker-open',
      kind: 'threshold',
      metric: 'vigil_gateway_breaker_state',
      by: ['route', 'target'],
      op: '>=',
      warning: 1,
      for: '1m',
      summary: 'route {{ $labels.route }}: the circuit breaker of {{ $labels.target }} is open',
    },
  },
  {
    host: false,
    rule: {
      name: 'vigil-upstream-p95',
      kind: 'threshold',
      metric: 'vigil_gateway_upstream_ttfb_seconds',
      by: ['route'],
      aggregate: 'p95',
      window: '5m',
      warning: 1,
      critical: 3,
      for: '5m',
      summary: 'route {{ $labels.route }}: upstream p95 time to first byte is {{ $value }}s',
    },
  },
  {
    host: false,
    rule: {
      name: 'vigil-event-loop-lag',
      kind: 'threshold',
      metric: 'vigil_nodejs_eventloop_lag_p99_seconds',
      warning: 0.2,
      critical: 1,
      for: '2m',
      summary: "Vigil's event loop p99 lag is {{ $value }}s",
    },
  },
  {
    host: true,
    rule: {
      name: 'vigil-host-cpu',
      kind: 'threshold',
      metric: 'vigil_system_cpu_usage_ratio',
      aggregate: 'avg',
      window: '5m',
      warning: 0.7,
      critical: 0.85,
      for: '5m',
      summary: 'host CPU busy {{ $value }} (5m average)',
    },
  },
  {
    host: true,
    rule: {
      name: 'vigil-host-memory',
      kind: 'threshold',
      metric: 'vigil_system_memory_bytes',
      match: { state: 'available' },
      divideBy: { match: { state: 'total' } },
      op: '<',
      warning: 0.2,
      critical: 0.1,
      for: '5m',
      summary: 'host memory: only {{ $value }} of it available (more than 80% used)',
    },
  },
  {
    host: true,
    rule: {
      name: 'vigil-host-disk',
      kind: 'threshold',
      metric: 'vigil_system_disk_bytes',
      match: { state: 'free' },
      divideBy: { match: { state: 'total' } },
      by: ['mount'],
      op: '<',
      warning: 0.2,
      critical: 0.1,
      for: '5m',
      summary: 'disk {{ $labels.mount }}: only {{ $value }} of it free (more than 80% used)',
    },
  },
  {
    host: false,
    rule: {
      name: 'vigil-auth-failures',
      kind: 'event',
      types: ['auth.login_failed', 'auth.mfa_failed'],
      by: 'sourceIp',
      window: '5m',
      op: '>=',
      warning: 10,
      critical: 50,
      summary: '{{ $value }} failed logins from {{ $labels.sourceIp }} in 5 minutes',
    },
  },
];

/** The rules of a pack, parsed by the same schema as configured rules; those the config redefines are left out. */
export function rulePack(pack: VigilConfig['alerting']['rulePack'], config: VigilConfig): AlertRuleConfig[] {
  if (pack === 'none') return [];
  const own = new Set(config.alerting.rules.map((r) => r.name));
  return DEFAULT_PACK.filter(({ host, rule }) => (!host || config.monitor.system.enabled) && !own.has(rule.name as string)).map(({ rule }) =>
    alertRule.parse({ ...rule, labels: { pack: pack } }),
  );
}
