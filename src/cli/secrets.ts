import type { Command } from 'commander';
import { lazyAction } from './output.js';

export function registerSecrets(program: Command): void {
  // Values never come from argv (visible in `ps`): a stray extra argument is refused, not ignored.
  const secrets = program.command('secrets').description('the encrypted secret store');
  const configOption = ['-c, --config <file>', 'YAML configuration file'] as const;
  secrets
    .command('set')
    .allowExcessArguments(false)
    .description('store a new version of a secret; the value is read from stdin or --file, never from the command line')
    .argument('<name>', 'secret name')
    .option(...configOption)
    .option('--file <path>', 'read the value from this file')
    .action(lazyAction(async () => (await import('./actions/secrets.js')).runSet));
  secrets
    .command('get')
    .allowExcessArguments(false)
    .description('show a secret\'s current version; the value is printed only with --reveal')
    .argument('<name>', 'secret name')
    .option(...configOption)
    .option('--at <n>', 'a given version instead of the current one')
    .option('--reveal', 'print the value (audited)')
    .action(lazyAction(async () => (await import('./actions/secrets.js')).runGet));
  secrets
    .command('list')
    .allowExcessArguments(false)
    .description('list secret names and current versions (never values)')
    .option(...configOption)
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./actions/secrets.js')).runList));
  secrets
    .command('versions')
    .allowExcessArguments(false)
    .description('list the versions of a secret')
    .argument('<name>', 'secret name')
    .option(...configOption)
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./actions/secrets.js')).runVersions));
  secrets
    .command('rollback')
    .allowExcessArguments(false)
    .description('make an earlier version current again (stored as a new version; history is kept)')
    .argument('<name>', 'secret name')
    .requiredOption('--to <n>', 'the version to restore')
    .option(...configOption)
    .action(lazyAction(async () => (await import('./actions/secrets.js')).runRollback));
  secrets
    .command('delete')
    .allowExcessArguments(false)
    .description('delete a secret and all its versions')
    .argument('<name>', 'secret name')
    .option(...configOption)
    .action(lazyAction(async () => (await import('./actions/secrets.js')).runDelete));
  secrets
    .command('rotate-master')
    .allowExcessArguments(false)
    .description('re-wrap every data key under a new master key, while Vigil keeps running; safe to re-run after an interruption')
    .option(...configOption)
    .option('--batch-size <n>', 'data keys per batch', '100')
    .option('--pause <duration>', 'pause between batches, e.g. 50ms', '0ms')
    .action(lazyAction(async () => (await import('./actions/secrets.js')).runRotateMaster));
}
