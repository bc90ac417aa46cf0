import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { prometheusRules } from '../alerting/rules/prometheus.js';
import { rulePack } from '../alerting/rules/pack.js';
import { VigilError } from '../core/errors.js';
import { GatewayMetrics } from '../gateway/metrics.js';
import { UpstreamMetrics } from '../gateway/upstream-metrics.js';
import { createMetricsRegistry } from '../telemetry/metrics.js';
import { loadConfigWithSecrets } from '../vault/config-secrets.js';
import { run } from './output.js';

/** Which metrics are histograms: asked of a registry with Vigil's own histogram metrics registered. */
function histogramLookup(): (metric: string) => boolean {
  const registry: Registry = createMetricsRegistry();
  new GatewayMetrics(registry);
  new UpstreamMetrics(registry);
  return (metric) => registry.getSingleMetric(metric) instanceof Histogram;
}

/** `vigil alerts export`: the alert rules as a Prometheus rule file. */
export function registerAlertExport(alerts: Command): void {
  alerts
    .command('export')
    .description('write the alert rules as a Prometheus rule file (passes `promtool check rules`)')
    .requiredOption('-c, --config <file>', 'YAML configuration file')
    .option('--format <format>', 'output format: prometheus', 'prometheus')
    .option('-o, --output <file>', 'write here instead of standard output')
    .action((opts: { config: string; format: string; output?: string }) =>
      run(async () => {
        if (opts.format !== 'prometheus') throw new VigilError('VGL_ALERT_EXPORT_UNSUPPORTED', `unknown format '${opts.format}'; use --format prometheus`);
        const { config } = await loadConfigWithSecrets(opts.config, process.env);
        const rules = [...config.alerting.rules, ...rulePack(config.alerting.rulePack, config)];
        const result = prometheusRules(rules, config, histogramLookup());
        for (const { rule, reason } of result.skipped) console.error(`skipped rule ${rule}: ${reason}`);
        if (opts.output === undefined) process.stdout.write(result.text);
        else {
          writeFileSync(opts.output, result.text);
          console.error(`${opts.output}: ${rules.length - result.skipped.length} rule(s) written`);
        }
      }),
    );
}
