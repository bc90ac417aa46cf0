import type { Command } from 'commander';
import { lazyAction } from './output.js';

export function registerBans(program: Command): void {
  const bans = program.command('bans').description('ban and unban addresses, networks and identities');
  bans
    .command('add')
    .description('ban an IP address, a CIDR, or an identity (key:<id>, a user name) for a while')
    .argument('<target>', 'e.g. 203.0.113.7, 2001:db8:1:2::/64, key:abcdefghijkl')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--for <duration>', 'how long, e.g. 1h or 7d', '1h')
    .option('--reason <text>', 'why (stored and shown by list)', 'manual')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./actions/bans.js')).runAdd));
  bans
    .command('list')
    .description('list bans in force')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./actions/bans.js')).runList));
  bans
    .command('remove')
    .description('lift a ban now')
    .argument('<target>', 'as shown by bans list')
    .option('-c, --config <file>', 'YAML configuration file')
    .action(lazyAction(async () => (await import('./actions/bans.js')).runRemove));
}
