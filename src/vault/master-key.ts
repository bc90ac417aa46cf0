import { closeSync, constants, copyFileSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { VigilError } from '../core/errors.js';
import { KEY_BYTES, masterKeyId } from './crypto.js';

export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
}

/** Where the master key comes from: the environment, or a file (generated on first start). */
export interface MasterKeySource {
  env: NodeJS.ProcessEnv;
  /** The key file; its `.next` sibling holds the new key while `rotate-master` runs. */
  file: string;
}

export const MASTER_KEY_FILE = 'master.key';

export function defaultMasterKeyFile(dataDir: string): string {
  return join(dataDir, MASTER_KEY_FILE);
}

export function nextKeyFile(file: string): string {
  return `${file}.next`;
}

/** Parses 32 bytes given as 64 hex or base64 characters (surrounding whitespace ignored). */
export function parseMasterKey(text: string, where: string): MasterKey {
  const value = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(value)) key = Buffer.from(value, 'hex');
  else if (/^[A-Za-z0-9+/]{43}=?$/.test(value)) key = Buffer.from(value, 'base64');
  if (key?.length !== KEY_BYTES) {
    throw new VigilError('VGL_VAULT_MASTER_KEY_INVALID', `${where} is not a 32-byte key (64 hex or 44 base64 characters)`);
  }
  return { id: masterKeyId(key), key };
}

/** Reads a key file, refusing one that group or others can read (like ssh does). Undefined when absent. */
export function readKeyFile(file: string): MasterKey | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VigilError('VGL_VAULT_MASTER_KEY_INVALID', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  if ((mode & 0o077) !== 0) {
    throw new VigilError('VGL_STORE_FILE_PERMISSIONS', `master key file ${file} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}; run: chmod 600 ${file}`);
  }
  return parseMasterKey(readFileSync(file, 'utf8'), file);
}

/** Writes a fresh key to `file` (0600, never over an existing file) and returns it. */
export function createKeyFile(file: string): MasterKey {
  const key = randomBytes(KEY_BYTES);
  let fd: number;
  try {
    fd = openSync(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
  } catch (err) {
    throw new VigilError('VGL_VAULT_MASTER_KEY_INVALID', `cannot create ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  try {
    writeSync(fd, `${key.toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { id: masterKeyId(key), key };
}

/**
 * Makes the `.next` key the key (atomic rename): the last step of a master key rotation. The retired
 * key is kept first as `backups/master.key.<id>` (0400), because database backups taken before the
 * rotation still need it; the operator deletes it once no such backup is kept.
 */
export function promoteNextKeyFile(file: string, retiredId: string | undefined): string | undefined {
  let backup: string | undefined;
  if (retiredId !== undefined) {
    const dir = join(dirname(file), 'backups');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    backup = join(dir, `master.key.${retiredId}`);
    try {
      copyFileSync(file, backup, constants.COPYFILE_EXCL);
      chmodSync(backup, 0o400);
    } catch (err) {
      // A resumed rotation finds the backup already made.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  renameSync(nextKeyFile(file), file);
  return backup;
}

/**
 * The master keys in force: `current` wraps new data keys unless a rotation is under way, in which
 * case `next` does. Unwrapping looks a key up by its ID, and re-reads the sources once when the ID
 * is unknown, so a running process follows a rotation done by `vigil secrets rotate-master`.
 */
export class MasterKeyring {
  private keys: { current: MasterKey | undefined; next: MasterKey | undefined } = { current: undefined, next: undefined };

  constructor(private readonly source: MasterKeySource) {
    this.reload();
  }

  get fromEnv(): boolean {
    return this.source.env.VIGIL_MASTER_KEY !== undefined && this.source.env.VIGIL_MASTER_KEY !== '';
  }

  get file(): string {
    return this.source.file;
  }

  reload(): void {
    const { env, file } = this.source;
    if (this.fromEnv) {
      const next = env.VIGIL_MASTER_KEY_NEXT;
      this.keys = {
        current: parseMasterKey(env.VIGIL_MASTER_KEY as string, 'VIGIL_MASTER_KEY'),
        next: next === undefined || next === '' ? undefined : parseMasterKey(next, 'VIGIL_MASTER_KEY_NEXT'),
      };
    } else {
      this.keys = { current: readKeyFile(file), next: readKeyFile(nextKeyFile(file)) };
    }
  }

  get current(): MasterKey | undefined {
    return this.keys.current;
  }

  get next(): MasterKey | undefined {
    return this.keys.next;
  }

  /** The key new data keys are wrapped with. */
  writeKey(): MasterKey | undefined {
    return this.keys.next ?? this.keys.current;
  }

  ids(): string[] {
    return [this.keys.current?.id, this.keys.next?.id].filter((id): id is string => id !== undefined);
  }

  byId(id: string): MasterKey | undefined {
    const find = () => [this.keys.next, this.keys.current].find((k) => k?.id === id);
    const found = find();
    if (found) return found;
    this.reload();
    return find();
  }

  /** Generates the key file on first start; only the caller knows whether secrets already exist. */
  generate(): MasterKey {
    const created = createKeyFile(this.source.file);
    this.reload();
    return created;
  }
}
