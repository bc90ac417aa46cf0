import type { LoadedConfig } from '../config/load.js';
import { resolveDataDir } from '../store/data-dir.js';
import type { AccessWriterEvents } from '../store/sqlite/access-writer.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { ApiKeyService, loadKeyHashSecret } from './api-keys.js';

/** Opens the store and the key service, for the CLI commands that need only those (and the app, which listens to `accessWriter`). */
export function openIdentity(loaded: LoadedConfig, env: NodeJS.ProcessEnv, accessWriter: AccessWriterEvents = {}): { store: Store; keys: ApiKeyService } {
  const dataDir = resolveDataDir(loaded, env);
  const store = openSqliteStore(dataDir, accessWriter);
  return { store, keys: new ApiKeyService(store.keys, loadKeyHashSecret(dataDir)) };
}
