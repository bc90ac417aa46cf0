import { after } from 'node:test';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import type { Clock } from '../../src/core/clock.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { openVault } from '../../src/vault/open.js';
import type { VaultParts } from '../../src/vault/open.js';
import { tempDir } from '../support/helpers.js';

export const who = { actor: 'test', sourceIp: '127.0.0.1' };

/** A real SQLite store in a temp data dir with the vault and audit log over it. */
export async function openTestVault(
  options: { dataDir?: string; env?: NodeJS.ProcessEnv; config?: Record<string, unknown>; clock?: Clock } = {},
): Promise<VaultParts & { store: SqliteStore; dataDir: string }> {
  const dataDir = options.dataDir ?? join(tempDir(), 'data');
  const store = openSqliteStore(dataDir);
  after(() => store.close());
  const config = parseConfig(JSON.stringify({ store: { dataDir }, ...options.config }), 'test.yaml', {}).config;
  const parts = openVault({ store, dataDir, config, env: options.env ?? {}, clock: options.clock ?? { now: () => Date.now() } });
  await parts.ready();
  return { ...parts, store, dataDir };
}
