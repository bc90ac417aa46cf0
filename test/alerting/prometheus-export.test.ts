import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { cliWorkspace } from '../support/cli.js';

/** The real promtool (Debian package `prometheus`; .ci/run installs it). Missing is a failure, not a skip. */
function promtool(args: string[]) {
  const r = spawnSync('promtool', args, { encoding: 'utf8' });
  assert.ifError(r.error);
  return r;
}

const RULES = `
monitor:
  checks:
    - { name: api, type: http, url: "http://127.0.0.1:1/" }
    - { name: cache, type: redis, url: "redis://127.0.0.1:6379" }
alerting:
  rulePack: default
  rules:
    - { name: api-down, kind: checkDown, check: api, for: 1m }
    - name: slow-routes
      kind: threshold
      metric: vigil_gateway_request_duration_seconds
      aggregate: avg
      window: 5m
      by: [route]
      warning: 0.5
      keepFiringFor: 2m
      annotations: { description: "route {{ $labels.route }} averages {{ $value }}s" }
    - { name: busy, kind: threshold, metric: vigil_gateway_in_flight, aggregate: max, window: 10m, warning: 100, critical: 500 }
    - { name: errors, kind: threshold, metric: vigil_gateway_requests_total, match: { status: "5.." }, aggregate: rate, window: 1m, critical: 10 }
    - { name: no-traffic, kind: absence, metric: vigil_gateway_requests_total, stale: 10m }
    - { name: lockouts, kind: event, types: ["auth.*"], by: type, window: 10m, critical: 100 }
`;

describe('vigil alerts export --format prometheus', () => {
  it('writes a rule file promtool accepts, with both levels of each rule and the rule pack', () => {
    const { dir, vigil } = cliWorkspace();
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, readFileSync(config, 'utf8') + RULES);
    const out = join(dir, 'vigil-rules.yml');
    const r = vigil(['alerts', 'export', '--format', 'prometheus', '--output', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /skipped rule vigil-auth-failures: counts per sourceIp/);
    const check = promtool(['check', 'rules', out]);
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const file = parse(readFileSync(out, 'utf8')) as { groups: { rules: { alert: string; expr: string; labels: Record<string, string>; for?: string; keep_firing_for?: string }[] }[] };
    const rules = file.groups[0]?.rules ?? [];
    const tls = rules.filter((x) => x.alert === 'vigil-tls-expiry');
    assert.deepEqual(tls.map((x) => [x.labels.severity, x.expr]), [
      ['warning', '(sum by (check) (vigil_tls_cert_expiry_seconds)) < 2592000'],
      ['critical', '(sum by (check) (vigil_tls_cert_expiry_seconds)) < 604800'],
    ]);
    const slow = rules.find((x) => x.alert === 'slow-routes');
    assert.equal(slow?.keep_firing_for, '2m');
    assert.match(slow?.expr ?? '', /vigil_gateway_request_duration_seconds_sum/);
    assert.equal(rules.find((x) => x.alert === 'vigil-datastore-down')?.expr, 'vigil_check_up{check=~"cache"} == 0');
    assert.match(rules.find((x) => x.alert === 'vigil-upstream-p95')?.expr ?? '', /^\(histogram_quantile\(0\.95, sum by \(le, route\)/);
  });

  it('writes to standard output, and refuses an unknown format with a coded error', () => {
    const { vigil } = cliWorkspace();
    const r = vigil(['alerts', 'export']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual((parse(r.stdout) as { groups: { rules: unknown[] }[] }).groups[0]?.rules, []);
    const bad = vigil(['alerts', 'export', '--format', 'nagios']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /VGL_ALERT_EXPORT_UNSUPPORTED/);
  });
});
