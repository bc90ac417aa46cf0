import type { Command } from 'commander';
import { lazyAction } from './output.js';

export function registerReload(program: Command): void {
  program
    .command('reload')
    .description("make the running `vigil start` re-read its config file and swap the gateway routes without dropping connections")
    .option('-c, --config <file>', 'the YAML configuration the running instance uses (for its data directory)')
    .action(lazyAction(async () => (await import('./actions/reload.js')).runReload));
}
