import type { Command } from 'commander';
import { lazyAction } from './output.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run examples/quickstart.yaml with a bundled demo agent and webhook receiver, and print a key to try it')
    .action(lazyAction(async () => (await import('./actions/demo.js')).runDemo));
}
