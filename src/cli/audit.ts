import type { Command } from 'commander';
import { lazyAction } from './output.js';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('verify the hash chain and signed checkpoints; exit 1 naming the first modified, deleted, inserted or reordered entry')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--file <path>', 'verify a JSON-lines export instead of the store')
    .option('--json', 'print the report as JSON')
    .action(lazyAction(async () => (await import('./actions/audit.js')).runVerify));
  audit
    .command('export')
    .description('write the audit log as JSON lines (stdout, or --out)')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--out <path>', 'write to this file (created 0600)')
    .action(lazyAction(async () => (await import('./actions/audit.js')).runExport));
}
