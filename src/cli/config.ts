import type { Command } from 'commander';
import { lazyAction } from './output.js';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('configuration tools');
  config
    .command('check')
    .description('validate a configuration file; exits 0 when valid, 1 with every problem listed')
    .requiredOption('-c, --config <file>', 'YAML configuration file')
    .action(lazyAction(async () => (await import('./actions/config.js')).runCheck));
}
