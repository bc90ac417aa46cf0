import { writeFileSync } from 'node:fs';
import { openIdentity } from '../../identity/open.js';
import { parseDuration } from '../../core/duration.js';
import { VigilError } from '../../core/errors.js';
import { withAudit } from '../../audit/with-audit.js';
import type { CreatedKey } from '../../identity/api-keys.js';
import { keyActive } from '../../identity/api-keys.js';
import type { ApiKey } from '../../store/records.js';
import { cliActor, withVault } from '../vault-session.js';
import { loadVaultLocation } from '../../vault/config-secrets.js';

const SCOPE = /^[a-z0-9][a-z0-9:_.*-]{0,63}$/;
const KEY_NAME = /^[\x21-\x7e][\x20-\x7e]{0,63}$/;

function parseScopes(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') return [];
  const scopes = text.split(',').map((s) => s.trim());
  const bad = scopes.find((s) => !SCOPE.test(s));
  if (bad !== undefined) throw new VigilError('VGL_CLI_USAGE', `--scopes: '${bad}' is not a scope (1-64 of a-z 0-9 : _ . * -)`);
  return scopes;
}

function parseLifetime(option: string, text: string, allowZero = false): number {
  const ms = parseDuration(text);
  if (ms === undefined || (ms === 0 && !allowZero)) throw new VigilError('VGL_CLI_USAGE', `${option}: '${text}' is not a duration like 30d`);
  return ms;
}

async function withIdentity<T>(configFile: string | undefined, body: (identity: ReturnType<typeof openIdentity>) => Promise<T>): Promise<T> {
  const identity = openIdentity(loadVaultLocation(configFile, process.env), process.env);
  try {
    return await body(identity);
  } finally {
    await identity.store.close();
  }
}

function iso(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : new Date(ms).toISOString();
}

export function keyStatus(key: ApiKey, now: number): 'active' | 'rotating' | 'revoked' | 'expired' {
  if (keyActive(key, now)) return key.revokedAt !== null ? 'rotating' : 'active';
  return key.revokedAt !== null && key.revokedAt <= now ? 'revoked' : 'expired';
}

/**
 * Writes the key to a new file readable only by its owner (0400); an existing file is never
 * overwritten, so a key cannot land in a file someone else prepared or can read.
 */
function writeKeyFile(file: string, plaintext: string): void {
  try {
    writeFileSync(file, `${plaintext}\n`, { mode: 0o400, flag: 'wx' });
  } catch (err) {
    throw new VigilError('VGL_CLI_USAGE', `--out: cannot create ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); it must not exist yet`, { cause: err });
  }
}

/** Prints or stores a new key: to the --out file (only the ID on stdout) or once on stdout. */
function deliver(created: CreatedKey, opts: { out?: string; json?: boolean }, note: string): void {
  const { hash: _hash, ...key } = created.key;
  if (opts.out !== undefined) writeKeyFile(opts.out, created.plaintext);
  if (opts.json) console.log(JSON.stringify(opts.out !== undefined ? { ...key, keyFile: opts.out } : { ...key, key: created.plaintext }));
  else if (opts.out === undefined) console.log(created.plaintext);
  else console.log(created.key.id);
  console.error(opts.out !== undefined ? `${note}; the key is in ${opts.out} (mode 0400)` : `${note}; it is shown only now`);
}

export async function runCreate(opts: { config?: string; name: string; owner?: string; scopes?: string; expires?: string; out?: string; json?: boolean }): Promise<void> {
  if (!KEY_NAME.test(opts.name)) throw new VigilError('VGL_CLI_USAGE', '--name must be 1-64 printable ASCII characters');
  if (opts.owner !== undefined && !KEY_NAME.test(opts.owner)) throw new VigilError('VGL_CLI_USAGE', '--owner must be 1-64 printable ASCII characters');
  const scopes = parseScopes(opts.scopes);
  const expiresAt = opts.expires === undefined ? null : Date.now() + parseLifetime('--expires', opts.expires);
  const event = { at: Date.now(), ...cliActor(), action: 'keys.create', target: opts.name, details: { scopes, owner: opts.owner ?? null } };
  const created = await withVault(opts.config, (v) =>
    withAudit(v.audit, event, () => withIdentity(opts.config, (id) => id.keys.create({ name: opts.name, scopes, expiresAt, owner: opts.owner ?? null, now: Date.now() }))),
  );
  deliver(created, opts, `created key ${created.key.id} (${created.key.name})`);
}

export async function runRotate(id: string, opts: { config?: string; grace: string; out?: string; json?: boolean }): Promise<void> {
  const grace = parseLifetime('--grace', opts.grace, true);
  const event = { at: Date.now(), ...cliActor(), action: 'keys.rotate', target: id, details: { graceMs: grace } };
  const rotated = await withVault(opts.config, (v) => withAudit(v.audit, event, () => withIdentity(opts.config, (identity) => identity.keys.rotate(id, grace, Date.now()))));
  deliver(rotated, opts, `rotated ${id} to ${rotated.key.id}; ${id} stops working at ${iso(rotated.oldKeyEndsAt)}`);
}

export async function runList(opts: { config?: string; json?: boolean }): Promise<void> {
  const list = await withIdentity(opts.config, (id) => id.store.keys.list());
  const now = Date.now();
  const rows = list.map(({ hash: _hash, ...key }) => ({ ...key, status: keyStatus({ ...key, hash: '' }, now) }));
  if (opts.json) {
    console.log(JSON.stringify(rows));
    return;
  }
  console.log(['ID'.padEnd(14), 'STATUS'.padEnd(9), 'CREATED'.padEnd(25), 'EXPIRES'.padEnd(25), 'LAST USED'.padEnd(25), 'SCOPES'.padEnd(20), 'OWNER'.padEnd(16), 'NAME'].join(' '));
  for (const r of rows) {
    const ends = r.status === 'rotating' ? r.revokedAt : r.expiresAt;
    console.log([r.id.padEnd(14), r.status.padEnd(9), iso(r.createdAt).padEnd(25), iso(ends).padEnd(25), iso(r.lastUsedAt).padEnd(25), (r.scopes.join(',') || '-').padEnd(20), (r.owner ?? '-').padEnd(16), r.name].join(' '));
  }
}

export async function runRevoke(id: string, opts: { config?: string }): Promise<void> {
  const event = { at: Date.now(), ...cliActor(), action: 'keys.revoke', target: id };
  await withVault(opts.config, (v) => withAudit(v.audit, event, () => withIdentity(opts.config, (identity) => identity.keys.revoke(id, Date.now()))));
  console.log(`revoked ${id}`);
}
