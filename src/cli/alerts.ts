import type { Command } from 'commander';
import { registerAlertExport } from './alerts-export.js';
import { lazyAction } from './output.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Silences, acknowledgement and history of alerts. Works on the data directory, so also while Vigil runs: the running process sees changes within a second. */
export function registerAlertDelivery(alerts: Command): void {
  const silence = alerts.command('silence').description('mute alerts that match labels for a while');
  silence
    .command('add')
    .description('add a silence')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('-m, --matcher <matcher>', 'label matcher like check="db" or severity=~"warning|info" (repeatable)', collect, [])
    .option('--start <time>', 'when it starts (ISO 8601); default now')
    .option('--end <time>', 'when it ends (ISO 8601)')
    .option('--duration <duration>', 'how long it lasts, e.g. 2h (instead of --end)')
    .option('--author <name>', 'who adds it; default the OS user')
    .requiredOption('--comment <text>', 'why')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./actions/alerts.js')).runSilenceAdd));
  silence
    .command('list')
    .description('list silences that have not ended (--all: also ended ones)')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--all', 'include ended silences')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./actions/alerts.js')).runSilenceList));
  silence
    .command('expire')
    .description('end a silence now')
    .argument('<id>', 'silence ID, as shown by silence list')
    .option('-c, --config <file>', 'YAML configuration file')
    .action(lazyAction(async () => (await import('./actions/alerts.js')).runSilenceExpire));

  alerts
    .command('ack')
    .description('acknowledge a firing alert: its escalation stops and its receivers are told')
    .argument('<id>', 'alert ID')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--comment <text>', 'a note for the history', '')
    .action(lazyAction(async () => (await import('./actions/alerts.js')).runAck));

  alerts
    .command('history')
    .description('alert events (fired, resolved, notified, suppressed, acknowledged, escalated) and delivery attempts')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--alert <id>', 'one alert: its events and every notification that carried it, with each attempt')
    .option('--since <duration>', 'how far back', '24h')
    .option('--limit <n>', 'most events shown', '200')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./actions/alerts.js')).runHistory));
}

/** `vigil alerts …`. The rule engine adds `export`; delivery adds silences, ack and history. */
export function registerAlerts(program: Command): void {
  const alerts = program.command('alerts').description('alerts: silences, acknowledgement, history, rule export');
  registerAlertDelivery(alerts);
  registerAlertExport(alerts);
}
