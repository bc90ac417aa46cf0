import { readFileSync } from 'node:fs';
import { VigilError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { MAX_SECRET_BYTES } from '../../vault/secret-store.js';
import { rotateMasterKey } from '../../vault/rotate.js';
import { cliActor, withVault } from '../vault-session.js';

/** The value from --file or stdin (never argv, which other users can see in `ps`). One trailing newline is dropped. */
async function readValue(file: string | undefined): Promise<Buffer> {
  let value: Buffer;
  if (file !== undefined) {
    try {
      value = readFileSync(file);
    } catch (err) {
      throw new VigilError('VGL_FILE_INVALID', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
    }
  } else {
    if (process.stdin.isTTY) console.error('reading the value from stdin; end with Ctrl-D');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size > MAX_SECRET_BYTES + 2) break;
    }
    value = Buffer.concat(chunks);
  }
  if (value.at(-1) === 0x0a) value = value.subarray(0, value.at(-2) === 0x0d ? -2 : -1);
  return value;
}

function parseVersion(text: string): number {
  const version = Number(text);
  if (!/^[1-9][0-9]{0,8}$/.test(text)) throw new VigilError('VGL_CLI_USAGE', `'${text}' is not a version number`);
  return version;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export async function runSet(name: string, opts: { config?: string; file?: string }): Promise<void> {
  const value = await readValue(opts.file);
  const version = await withVault(opts.config, (s) => s.secrets.set(name, value, cliActor()));
  console.log(`${name} v${version} stored`);
}

export async function runGet(name: string, opts: { config?: string; at?: string; reveal?: boolean }): Promise<void> {
  const version = opts.at === undefined ? undefined : parseVersion(opts.at);
  await withVault(opts.config, async (s) => {
    if (opts.reveal) {
      process.stdout.write(await s.secrets.reveal(name, cliActor(), version));
      return;
    }
    const versions = await s.secrets.versions(name);
    const shown = version === undefined ? versions.at(-1) : versions.find((v) => v.version === version);
    if (!shown) throw new VigilError('VGL_SECRET_NOT_FOUND', `secret '${name}' has no version ${version}`);
    console.log(`${name} v${shown.version} created ${iso(shown.createdAt)} (value hidden; add --reveal to print it)`);
  });
}

export async function runList(opts: { config?: string; json?: boolean }): Promise<void> {
  const list = await withVault(opts.config, (s) => s.secrets.list());
  if (opts.json) return void console.log(JSON.stringify(list));
  for (const s of list) console.log(`${s.name.padEnd(40)} v${String(s.version).padEnd(5)} ${iso(s.updatedAt)}`);
}

export async function runVersions(name: string, opts: { config?: string; json?: boolean }): Promise<void> {
  const versions = await withVault(opts.config, (s) => s.secrets.versions(name));
  if (opts.json) return void console.log(JSON.stringify(versions));
  for (const v of versions) console.log(`v${String(v.version).padEnd(5)} ${iso(v.createdAt)} master key ${v.masterKeyId}`);
}

export async function runRollback(name: string, opts: { config?: string; to: string }): Promise<void> {
  const from = parseVersion(opts.to);
  const version = await withVault(opts.config, (s) => s.secrets.rollback(name, from, cliActor()));
  console.log(`${name} v${version} stored (value of v${from})`);
}

export async function runDelete(name: string, opts: { config?: string }): Promise<void> {
  await withVault(opts.config, (s) => s.secrets.delete(name, cliActor()));
  console.log(`${name} deleted`);
}

export async function runRotateMaster(opts: { config?: string; batchSize: string; pause: string }): Promise<void> {
  const batchSize = Number(opts.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new VigilError('VGL_CLI_USAGE', '--batch-size must be 1-10000');
  const pauseMs = parseDuration(opts.pause);
  if (pauseMs === undefined) throw new VigilError('VGL_CLI_USAGE', `--pause: '${opts.pause}' is not a duration`);
  const result = await withVault(opts.config, async (s) => {
    const actor = cliActor();
    await s.audit.record({ at: Date.now(), ...actor, action: 'secrets.rotate-master', target: '', result: 'requested' });
    const done = await rotateMasterKey(s.vault, { batchSize, pauseMs, onProgress: (n) => console.error(`re-wrapped ${n} data keys`) });
    await s.audit.record({ at: Date.now(), ...actor, action: 'secrets.rotate-master', target: done.to, result: 'success', details: { from: done.from, rewrapped: done.rewrapped } });
    return done;
  });
  console.log(`master key is now ${result.to}; ${result.rewrapped} data keys re-wrapped`);
  if (result.backup) console.log(`the retired key is kept in ${result.backup} (0400) for restoring older backups; delete it once none is kept`);
  if (!result.promoted) console.log('set VIGIL_MASTER_KEY to the value of VIGIL_MASTER_KEY_NEXT, unset VIGIL_MASTER_KEY_NEXT, and restart');
}
