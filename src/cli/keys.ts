import type { Command } from 'commander';
import { openIdentity } from '../app.js';
import { parseDuration } from '../core/duration.js';
import { VigilError } from '../core/errors.js';
import { withAudit } from '../audit/with-audit.js';
import { cliActor, withVault } from './vault-session.js';
import { loadVaultLocation } from '../vault/config-secrets.js';
import { run } from './output.js';

const SCOPE = /^[a-z0-9][a-z0-9:_.*-]{0,63}$/;
const KEY_NAME = /^[\x21-\x7e][\x20-\x7e]{0,63}$/;

function parseScopes(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') return [];
  const scopes = text.split(',').map((s) => s.trim());
  const bad = scopes.find((s) => !SCOPE.test(s));
  if (bad !== undefined) throw new VigilError('VGL_CLI_USAGE', `--scopes: '${bad}' is not a scope (1-64 of a-z 0-9 : _ . * -)`);
  return scopes;
}

async function withIdentity<T>(configFile: string | undefined, body: (identity: ReturnType<typeof openIdentity>) => Promise<T>): Promise<T> {
  const identity = openIdentity(loadVaultLocation(configFile, process.env), process.env);
  try {
    return await body(identity);
  } finally {
    await identity.store.close();
  }
}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys for services and agents');
  keys
    .command('create')
    .description('create a key and print it once (only its hash is stored)')
    .option('-c, --config <file>', 'YAML configuration file')
    .requiredOption('--name <name>', 'what or who the key is for')
    .option('--scopes <list>', 'comma-separated scopes, e.g. agents:invoke,usage:read')
    .option('--expires <duration>', 'lifetime, e.g. 30d')
    .option('--json', 'print JSON')
    .action((opts: { config?: string; name: string; scopes?: string; expires?: string; json?: boolean }) =>
      run(async () => {
        if (!KEY_NAME.test(opts.name)) throw new VigilError('VGL_CLI_USAGE', '--name must be 1-64 printable ASCII characters');
        const scopes = parseScopes(opts.scopes);
        let expiresAt: number | null = null;
        if (opts.expires !== undefined) {
          const ms = parseDuration(opts.expires);
          if (ms === undefined || ms === 0) throw new VigilError('VGL_CLI_USAGE', `--expires: '${opts.expires}' is not a duration like 30d`);
          expiresAt = Date.now() + ms;
        }
        const event = { at: Date.now(), ...cliActor(), action: 'keys.create', target: opts.name, details: { scopes } };
        const created = await withVault(opts.config, (v) =>
          withAudit(v.audit, event, () => withIdentity(opts.config, (id) => id.keys.create({ name: opts.name, scopes, expiresAt, now: Date.now() }))),
        );
        if (opts.json) {
          const { hash: _hash, ...key } = created.key;
          console.log(JSON.stringify({ ...key, key: created.plaintext }));
        } else {
          console.log(created.plaintext);
          console.error(`created key ${created.key.id} (${created.key.name}); it is shown only now`);
        }
      }),
    );
  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--json', 'print JSON')
    .action((opts: { config?: string; json?: boolean }) =>
      run(async () => {
        const list = await withIdentity(opts.config, (id) => id.store.keys.list());
        const now = Date.now();
        const rows = list.map(({ hash: _hash, ...key }) => ({
          ...key,
          status: key.revokedAt !== null ? 'revoked' : key.expiresAt !== null && key.expiresAt <= now ? 'expired' : 'active',
        }));
        if (opts.json) {
          console.log(JSON.stringify(rows));
          return;
        }
        console.log(['ID'.padEnd(14), 'STATUS'.padEnd(8), 'CREATED'.padEnd(25), 'EXPIRES'.padEnd(25), 'SCOPES'.padEnd(20), 'NAME'].join(' '));
        for (const r of rows) {
          console.log([r.id.padEnd(14), r.status.padEnd(8), iso(r.createdAt).padEnd(25), iso(r.expiresAt).padEnd(25), (r.scopes.join(',') || '-').padEnd(20), r.name].join(' '));
        }
      }),
    );
  keys
    .command('revoke')
    .description('revoke a key; a running gateway rejects it within a second')
    .argument('<id>', 'key ID, as shown by keys list')
    .option('-c, --config <file>', 'YAML configuration file')
    .action((id: string, opts: { config?: string }) =>
      run(async () => {
        const event = { at: Date.now(), ...cliActor(), action: 'keys.revoke', target: id };
        await withVault(opts.config, (v) => withAudit(v.audit, event, () => withIdentity(opts.config, (identity) => identity.keys.revoke(id, Date.now()))));
        console.log(`revoked ${id}`);
      }),
    );
}
