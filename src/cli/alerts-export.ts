import type { Command } from 'commander';
import { lazyAction } from './output.js';

/** `vigil alerts export`: the alert rules as a Prometheus rule file. */
export function registerAlertExport(alerts: Command): void {
  alerts
    .command('export')
    .description('write the alert rules as a Prometheus rule file (passes `promtool check rules`)')
    .requiredOption('-c, --config <file>', 'YAML configuration file')
    .option('--format <format>', 'output format: prometheus', 'prometheus')
    .option('-o, --output <file>', 'write here instead of standard output')
    .action(lazyAction(async () => (await import('./actions/alerts-export.js')).runExport));
}
