import type { Command } from 'commander';
import { lazyAction } from './output.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the gateway, monitors, alerting and console in one process')
    .option('-c, --config <file>', 'YAML configuration file (defaults when absent)')
    .action(lazyAction(async () => (await import('./actions/start.js')).runStart));
}
