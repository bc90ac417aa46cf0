import { writeFileSync } from 'node:fs';
import { prometheusRules } from '../../alerting/rules/prometheus.js';
import { rulePack } from '../../alerting/rules/pack.js';
import { VigilError } from '../../core/errors.js';
import { GatewayMetrics } from '../../gateway/metrics.js';
import { UpstreamMetrics } from '../../gateway/upstream-metrics.js';
import { createMetricsRegistry } from '../../telemetry/metrics.js';
import { loadConfigWithSecrets } from '../../vault/config-secrets.js';

/** Which of these metrics are histograms: asked of a registry with Vigil's gateway metrics registered. */
async function histograms(names: Iterable<string>): Promise<Set<string>> {
  const registry = createMetricsRegistry();
  new GatewayMetrics(registry);
  new UpstreamMetrics(registry);
  const found = new Set<string>();
  for (const name of names) {
    const metric = registry.getSingleMetric(name);
    if (metric !== undefined && String((await metric.get()).type) === 'histogram') found.add(name);
  }
  return found;
}

export async function runExport(opts: { config: string; format: string; output?: string }): Promise<void> {
  if (opts.format !== 'prometheus') throw new VigilError('VGL_ALERT_EXPORT_UNSUPPORTED', `unknown format '${opts.format}'; use --format prometheus`);
  const { config } = await loadConfigWithSecrets(opts.config, process.env);
  const rules = [...config.alerting.rules, ...rulePack(config.alerting.rulePack, config)];
  const metrics = rules.flatMap((r) => (r.kind === 'threshold' ? [r.metric, r.divideBy?.metric ?? r.metric] : []));
  const known = await histograms(new Set(metrics));
  const result = prometheusRules(rules, config, (metric) => known.has(metric));
  for (const { rule, reason } of result.skipped) console.error(`skipped rule ${rule}: ${reason}`);
  if (opts.output === undefined) process.stdout.write(result.text);
  else {
    writeFileSync(opts.output, result.text);
    console.error(`${opts.output}: ${rules.length - result.skipped.length} rule(s) written`);
  }
}
