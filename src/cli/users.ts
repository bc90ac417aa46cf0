import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { ApiKeyService, loadKeyHashSecret } from '../identity/api-keys.js';
import { Identity } from '../identity/index.js';
import { accountSubject } from '../identity/lockout.js';
import { oneTimePassword, publicUser } from '../identity/users.js';
import type { PublicUser } from '../identity/users.js';
import { createLogger } from '../telemetry/logger.js';
import { SecretScrubber } from '../telemetry/redact.js';
import { loadFromOption } from './load.js';
import { run } from './output.js';
import { cliActor, withVault } from './vault-session.js';
import type { VaultSession } from './vault-session.js';

/** Opens the store, vault (for the audit log) and identity for one command. */
function withIdentity<T>(configFile: string | undefined, body: (identity: Identity, session: VaultSession) => Promise<T>): Promise<T> {
  const { config } = loadFromOption(configFile);
  return withVault(configFile, (session) => {
    const dataDir = session.dataDir;
    const logger = createLogger({ level: 'error', format: 'json', redact: [], scrubber: new SecretScrubber(), destination: process.stderr });
    const keys = new ApiKeyService(session.store.keys, loadKeyHashSecret(dataDir));
    return body(new Identity(config.identity, dataDir, session.store, keys, session.audit, logger), session);
  });
}

/** Runs a change and records it in the audit log as the operator at the terminal. */
async function auditedCli<T>(identity: Identity, action: string, target: string, change: () => Promise<T>, details?: Record<string, unknown>): Promise<T> {
  const { actor } = cliActor();
  try {
    const result = await change();
    await identity.audit.record({ at: Date.now(), actor, action, target, sourceIp: null, result: 'success', details });
    return result;
  } catch (err) {
    await identity.audit.record({ at: Date.now(), actor, action, target, sourceIp: null, result: 'failure', details: { ...details, code: (err as { code?: string }).code ?? 'error' } });
    throw err;
  }
}

function printUser(user: PublicUser, json: boolean | undefined): void {
  if (json) console.log(JSON.stringify(user));
  else console.log(`${user.username} (${user.role})${user.disabled ? ' disabled' : ''}`);
}

/** A one-time password goes to stdout alone (so `| ...` captures just it); the explanation to stderr. */
function printOneTime(username: string, password: string): void {
  console.log(password);
  console.error(`one-time password for '${username}', shown only now; it must be changed at the first login`);
}

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
    .action((username: string, opts: { role: string; config?: string; passwordStdin?: boolean; json?: boolean }) =>
      run(() =>
        withIdentity(opts.config, async (identity) => {
          const chosen = opts.passwordStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : undefined;
          const password = chosen ?? oneTimePassword();
          const user = await auditedCli(identity, 'users.create', username, () =>
            identity.users.create({ username, role: opts.role, password, mustChangePassword: chosen === undefined, now: Date.now() }), { role: opts.role });
          printUser(publicUser(user), opts.json);
          if (chosen === undefined) printOneTime(username, password);
        }),
      ),
    );

  users
    .command('list')
    .description('list users (never their password hashes)')
    .option(...configOption)
    .option('--json', 'print JSON')
    .action((opts: { config?: string; json?: boolean }) =>
      run(() =>
        withIdentity(opts.config, async (identity) => {
          const list = (await identity.users.list()).map(publicUser);
          if (opts.json) return console.log(JSON.stringify(list));
          console.log(['USERNAME'.padEnd(24), 'ROLE'.padEnd(16), 'STATUS'.padEnd(9), 'CREATED'].join(' '));
          for (const u of list) console.log([u.username.padEnd(24), u.role.padEnd(16), (u.disabled ? 'disabled' : 'active').padEnd(9), new Date(u.createdAt).toISOString()].join(' '));
        }),
      ),
    );

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    users
      .command(verb)
      .description(disabled ? 'disable a user and end their sessions' : 'enable a disabled user')
      .argument('<username>')
      .option(...configOption)
      .action((username: string, opts: { config?: string }) =>
        run(() =>
          withIdentity(opts.config, async (identity) => {
            await auditedCli(identity, `users.${verb}`, username, () => identity.users.setDisabled(username, disabled, Date.now()));
            console.log(`${verb}d ${username}`);
          }),
        ),
      );
  }

  users
    .command('set-role')
    .description("change a user's role; their sessions end")
    .argument('<username>')
    .argument('<role>')
    .option(...configOption)
    .action((username: string, role: string, opts: { config?: string }) =>
      run(() =>
        withIdentity(opts.config, async (identity) => {
          await auditedCli(identity, 'users.set_role', username, () => identity.users.setRole(username, role, Date.now()), { role });
          console.log(`${username} is now ${role}`);
        }),
      ),
    );

  users
    .command('reset-password')
    .description('replace a password with a one-time one (printed once) and end the sessions')
    .argument('<username>')
    .option(...configOption)
    .action((username: string, opts: { config?: string }) =>
      run(() =>
        withIdentity(opts.config, async (identity) => {
          const reset = await auditedCli(identity, 'users.reset_password', username, () => identity.users.resetPassword(username, Date.now()));
          printOneTime(username, reset.password);
        }),
      ),
    );

  users
    .command('reset-mfa')
    .description('turn TOTP off for a user who lost the authenticator and every recovery code; their sessions end')
    .argument('<username>')
    .option(...configOption)
    .action((username: string, opts: { config?: string }) =>
      run(() =>
        withIdentity(opts.config, async (identity) => {
          await auditedCli(identity, 'users.reset_mfa', username, async () => {
            const user = await identity.users.get(username);
            await identity.mfa.remove(user.id);
            await identity.sessions.revokeAll(user.id, Date.now());
            await identity.tokens.revokeForUser(user.id, Date.now());
          });
          console.log(`TOTP is off for ${username}; they enrol again at the next login`);
        }),
      ),
    );

  users
    .command('unlock')
    .description('lift a login lock on the account (the recovery path for a locked owner)')
    .argument('<username>')
    .option(...configOption)
    .action((username: string, opts: { config?: string }) =>
      run(() =>
        withIdentity(opts.config, async (identity) => {
          await auditedCli(identity, 'users.unlock', username, () => identity.throttle.unlock(accountSubject(username)));
          console.log(`unlocked ${username}`);
        }),
      ),
    );
}
