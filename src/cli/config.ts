import type { Command } from 'commander';
import { ConfigError, formatIssue } from '../config/load.js';
import { loadConfigWithSecrets } from '../vault/config-secrets.js';
import { printError } from './output.js';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('configuration tools');
  config
    .command('check')
    .description('validate a configuration file; exits 0 when valid, 1 with every problem listed')
    .requiredOption('-c, --config <file>', 'YAML configuration file')
    .action(async (opts: { config: string }) => {
      try {
        await loadConfigWithSecrets(opts.config, process.env);
        console.log(`${opts.config}: ok`);
      } catch (err) {
        if (err instanceof ConfigError) {
          console.error(`${opts.config}: ${err.issues.length} problem(s)`);
          for (const issue of err.issues) console.error(`  ${formatIssue(issue)}`);
        } else {
          printError(err);
        }
        process.exitCode = 1;
      }
    });
}
