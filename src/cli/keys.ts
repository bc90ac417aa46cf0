import type { Command } from 'commander';
import { lazyAction } from './output.js';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys for services and agents');
  keys
    .command('create')
    .description('create a key and print it once (only its hash is stored)')
    .option('-c, --config <file>', 'YAML configuration file')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--owner <label>', 'who or which service holds it')
    .option('--scopes <list>', 'comma-separated scopes, e.g. agents:invoke,usage:read')
    .option('--expires <duration>', 'lifetime, e.g. 30d')
    .option('--out <file>', 'write the key to this new file (mode 0400) instead of printing it')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./actions/keys.js')).runCreate));
  keys
    .command('rotate')
    .description('replace a key: the new one is printed once, the old one keeps working until the grace period ends')
    .argument('<id>', 'key ID, as shown by keys list')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--grace <duration>', 'how long the old key keeps working', '24h')
    .option('--out <file>', 'write the new key to this new file (mode 0400) instead of printing it')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./actions/keys.js')).runRotate));
  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./actions/keys.js')).runList));
  keys
    .command('revoke')
    .description('revoke a key; a running gateway rejects it within a second')
    .argument('<id>', 'key ID, as shown by keys list')
    .option('-c, --config <file>', 'YAML configuration file')
    .action(lazyAction(async () => (await import('./actions/keys.js')).runRevoke));
}
