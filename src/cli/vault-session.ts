import { userInfo } from 'node:os';
import { resolveDataDir } from '../store/data-dir.js';
import { systemClock } from '../core/clock.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import type { Actor } from '../vault/secret-store.js';
import { openVault } from '../vault/open.js';
import type { VaultParts } from '../vault/open.js';
import { loadVaultLocation } from '../vault/config-secrets.js';

export interface VaultSession extends VaultParts {
  store: Store;
  dataDir: string;
}

/** Opens the store and vault named by --config for one command, and closes them afterwards. */
export async function withVault<T>(configFile: string | undefined, body: (session: VaultSession) => Promise<T>): Promise<T> {
  const loaded = loadVaultLocation(configFile, process.env);
  const dataDir = resolveDataDir(loaded, process.env);
  const store = openSqliteStore(dataDir);
  try {
    const parts = openVault({ store, dataDir, config: loaded.config, env: process.env, clock: systemClock });
    await parts.ready();
    return await body({ ...parts, store, dataDir });
  } finally {
    await store.close();
  }
}

/** The operator running the CLI, as recorded in the audit log. */
export function cliActor(): Actor {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // no passwd entry (some containers): keep 'unknown'
  }
  return { actor: `cli:${name}`, sourceIp: null };
}
