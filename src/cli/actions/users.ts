import { readFileSync } from 'node:fs';
import { ApiKeyService, loadKeyHashSecret } from '../../identity/api-keys.js';
import { Identity } from '../../identity/index.js';
import { accountSubject } from '../../identity/lockout.js';
import { oneTimePassword, publicUser } from '../../identity/users.js';
import type { PublicUser } from '../../identity/users.js';
import { createLogger } from '../../telemetry/logger.js';
import { SecretScrubber } from '../../telemetry/redact.js';
import { loadFromOption } from '../load.js';
import { cliActor, withVault } from '../vault-session.js';
import type { VaultSession } from '../vault-session.js';

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

export function runAdd(username: string, opts: { role: string; config?: string; passwordStdin?: boolean; json?: boolean }): Promise<void> {
  return withIdentity(opts.config, async (identity) => {
    const chosen = opts.passwordStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : undefined;
    const password = chosen ?? oneTimePassword();
    const user = await auditedCli(identity, 'users.create', username, () =>
      identity.users.create({ username, role: opts.role, password, mustChangePassword: chosen === undefined, now: Date.now() }), { role: opts.role });
    printUser(publicUser(user), opts.json);
    if (chosen === undefined) printOneTime(username, password);
  });
}

export function runList(opts: { config?: string; json?: boolean }): Promise<void> {
  return withIdentity(opts.config, async (identity) => {
    const list = (await identity.users.list()).map(publicUser);
    if (opts.json) return console.log(JSON.stringify(list));
    console.log(['USERNAME'.padEnd(24), 'ROLE'.padEnd(16), 'STATUS'.padEnd(9), 'CREATED'].join(' '));
    for (const u of list) console.log([u.username.padEnd(24), u.role.padEnd(16), (u.disabled ? 'disabled' : 'active').padEnd(9), new Date(u.createdAt).toISOString()].join(' '));
  });
}

function setDisabled(verb: 'disable' | 'enable', username: string, opts: { config?: string }): Promise<void> {
  return withIdentity(opts.config, async (identity) => {
    await auditedCli(identity, `users.${verb}`, username, () => identity.users.setDisabled(username, verb === 'disable', Date.now()));
    console.log(`${verb}d ${username}`);
  });
}

export function runDisable(username: string, opts: { config?: string }): Promise<void> {
  return setDisabled('disable', username, opts);
}

export function runEnable(username: string, opts: { config?: string }): Promise<void> {
  return setDisabled('enable', username, opts);
}

export function runSetRole(username: string, role: string, opts: { config?: string }): Promise<void> {
  return withIdentity(opts.config, async (identity) => {
    await auditedCli(identity, 'users.set_role', username, () => identity.users.setRole(username, role, Date.now()), { role });
    console.log(`${username} is now ${role}`);
  });
}

export function runResetPassword(username: string, opts: { config?: string }): Promise<void> {
  return withIdentity(opts.config, async (identity) => {
    const reset = await auditedCli(identity, 'users.reset_password', username, () => identity.users.resetPassword(username, Date.now()));
    printOneTime(username, reset.password);
  });
}

export function runResetMfa(username: string, opts: { config?: string }): Promise<void> {
  return withIdentity(opts.config, async (identity) => {
    await auditedCli(identity, 'users.reset_mfa', username, async () => {
      const user = await identity.users.get(username);
      await identity.mfa.remove(user.id);
      await identity.sessions.revokeAll(user.id, Date.now());
      await identity.tokens.revokeForUser(user.id, Date.now());
    });
    console.log(`TOTP is off for ${username}; they enrol again at the next login`);
  });
}

export function runUnlock(username: string, opts: { config?: string }): Promise<void> {
  return withIdentity(opts.config, async (identity) => {
    await auditedCli(identity, 'users.unlock', username, () => identity.throttle.unlock(accountSubject(username)));
    console.log(`unlocked ${username}`);
  });
}
