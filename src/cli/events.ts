import type { Command } from 'commander';
import { EVENTS_PAGE_DEFAULT, EVENTS_PAGE_MAX } from '../identity/security-event-query.js';
import { SECURITY_SEVERITIES } from '../store/records.js';
import { lazyAction } from './output.js';

/** `vigil events`: the stored security events, read from the data directory like `bans list` (so also while Vigil runs). */
export function registerEvents(program: Command): void {
  const events = program.command('events').description('stored security events (auth failures, refusals, bans, limits)');
  events
    .command('list')
    .description('security events, newest first, with the filters of GET /api/v1/security/events')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--type <type>', 'one event type, e.g. hygiene.path_rejected')
    .option('--severity <severity>', `exactly this severity (${SECURITY_SEVERITIES.join(', ')})`)
    .option('--min-severity <severity>', 'this severity or a higher one')
    .option('--ip <address>', 'the source address')
    .option('--route <route>', 'a gateway route name, or console:/api/v1/...')
    .option('--since <time>', 'from this time (inclusive): ISO 8601, epoch ms, or a duration ago like 24h')
    .option('--until <time>', 'before this time (exclusive): ISO 8601, epoch ms, or a duration ago')
    .option('--limit <n>', `page size, 1-${EVENTS_PAGE_MAX}`, String(EVENTS_PAGE_DEFAULT))
    .option('--cursor <id>', 'the previous page\'s next cursor (printed as "more: --cursor N")')
    .option('--json', 'print { events, nextCursor } as the admin API does')
    .action(lazyAction(async () => (await import('./actions/events.js')).runList));
}
