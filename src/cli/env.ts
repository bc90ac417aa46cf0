import type { Command } from 'commander';
import { lazyAction } from './output.js';

export function registerEnvAndDoctor(program: Command): void {
  const env = program.command('env').description('environment hygiene');
  env
    .command('check')
    .description('check that the variables a template lists are set, well-shaped and not placeholders; values are never printed')
    .requiredOption('--template <file>', 'template in .env.example style: NAME=example  # url|number|duration|key|string, optional')
    .option('--env-file <file>', 'check the values in this file instead of the environment')
    .action(lazyAction(async () => (await import('./actions/env.js')).runCheck));
  program
    .command('doctor')
    .description('report loose permissions on the data dir, key files and config, and .env files git would commit, each with its fix')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--project <dir>', 'where to look for .env files', '.')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./actions/env.js')).runDoctor));
}
