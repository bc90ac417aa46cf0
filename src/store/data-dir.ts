import { closeSync, constants, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { VigilError } from '../core/errors.js';

/** The data directory: config first, then VIGIL_DATA_DIR, then ./vigil-data. */
export function resolveDataDir(loaded: LoadedConfig, env: NodeJS.ProcessEnv): string {
  return loaded.config.store.dataDir ?? env.VIGIL_DATA_DIR ?? './vigil-data';
}

/** Group and other permission bits: any of them set on a secret-holding path is refused. */
const LOOSE_BITS = 0o077;

/** Creates the data directory with mode 0700, or checks an existing one; refuses loose permissions. */
export function ensureDataDir(dir: string): string {
  const path = resolve(dir);
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new VigilError('VGL_STORE_DATA_DIR', `cannot create data directory ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  const stat = statSync(path);
  if (!stat.isDirectory()) throw new VigilError('VGL_STORE_DATA_DIR', `data directory ${path} is not a directory`);
  if ((stat.mode & LOOSE_BITS) !== 0) {
    throw new VigilError('VGL_STORE_DATA_DIR', `data directory ${path} has mode ${modeString(stat.mode)}; run: chmod 700 ${path}`);
  }
  try {
    const probe = join(path, '.write-probe');
    closeSync(openSync(probe, constants.O_CREAT | constants.O_WRONLY, 0o600));
    unlinkSync(probe);
  } catch (err) {
    throw new VigilError('VGL_STORE_DATA_DIR', `data directory ${path} is not writable: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  return path;
}

/** Creates a file with mode 0600 if absent; refuses an existing file that group or others can read. */
export function ensurePrivateFile(path: string): void {
  try {
    closeSync(openSync(path, constants.O_CREAT | constants.O_RDWR, 0o600));
  } catch (err) {
    throw new VigilError('VGL_STORE_DATA_DIR', `cannot create ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  const mode = statSync(path).mode;
  if ((mode & LOOSE_BITS) !== 0) {
    throw new VigilError('VGL_STORE_FILE_PERMISSIONS', `${path} has mode ${modeString(mode)}; run: chmod 600 ${path}`);
  }
}

function modeString(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}
