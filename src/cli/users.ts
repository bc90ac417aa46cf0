import type { Command } from 'commander';
import { lazyAction } from './output.js';

export function registerUsers(program: Command): void {
  const users = program.command('users').description('console users: passwords, roles, locks');
  const configOption = ['-c, --config <file>', 'YAML configuration file'] as const;

  users
    .command('add')
    .description('create a user; prints a one-time password unless --password-stdin')
    .argument('<username>', 'login name: 1-64 of a-z 0-9 _ . @ -')
    .requiredOption('--role <role>', 'built-in or configured role')
    .option(...configOption)
    .option('--password-stdin', 'read the password from standard input instead of generating one')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./actions/users.js')).runAdd));

  users
    .command('list')
    .description('list users (never their password hashes)')
    .option(...configOption)
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./actions/users.js')).runList));

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    users
      .command(verb)
      .description(disabled ? 'disable a user and end their sessions' : 'enable a disabled user')
      .argument('<username>')
      .option(...configOption)
      .action(lazyAction(async () => (await import('./actions/users.js'))[disabled ? 'runDisable' : 'runEnable']));
  }

  users
    .command('set-role')
    .description("change a user's role; their sessions end")
    .argument('<username>')
    .argument('<role>')
    .option(...configOption)
    .action(lazyAction(async () => (await import('./actions/users.js')).runSetRole));

  users
    .command('reset-password')
    .description('replace a password with a one-time one (printed once) and end the sessions')
    .argument('<username>')
    .option(...configOption)
    .action(lazyAction(async () => (await import('./actions/users.js')).runResetPassword));

  users
    .command('reset-mfa')
    .description('turn TOTP off for a user who lost the authenticator and every recovery code; their sessions end')
    .argument('<username>')
    .option(...configOption)
    .action(lazyAction(async () => (await import('./actions/users.js')).runResetMfa));

  users
    .command('unlock')
    .description('lift a login lock on the account (the recovery path for a locked owner)')
    .argument('<username>')
    .option(...configOption)
    .action(lazyAction(async () => (await import('./actions/users.js')).runUnlock));
}
