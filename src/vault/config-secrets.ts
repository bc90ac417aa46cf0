import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { defaultConfig, parseConfig, secretReferences } from '../config/load.js';
import type { LoadedConfig } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { isVigilError, VigilError } from '../core/errors.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { openVault } from './open.js';
import { SECRET_NAME } from './secret-store.js';

/** The parts of the config that say where the vault is; they cannot themselves come from the vault. */
const VAULT_LOCATION_KEYS = ['store', 'vault', 'audit'] as const;

/**
 * Loads a config file, resolving its `${secret:NAME}` references from the vault of the data
 * directory it names. Every read is audited (actor `system:config`); values go into
 * `secretValues`, which the logger scrubs from every line.
 */
export async function loadConfigWithSecrets(file: string | undefined, env: NodeJS.ProcessEnv, clock: Clock = systemClock): Promise<LoadedConfig> {
  if (file === undefined) return defaultConfig();
  const text = readConfigText(file);
  const names = secretReferences(text).filter((name) => SECRET_NAME.test(name));
  if (names.length === 0) return parseConfig(text, file, env);
  const location = locationOf(text, file, env);
  const dataDir = location.config.store.dataDir ?? env.VIGIL_DATA_DIR ?? './vigil-data';
  const store = openSqliteStore(dataDir);
  const values = new Map<string, string>();
  try {
    const parts = openVault({ store, dataDir, config: location.config, env, clock });
    await parts.ready();
    for (const name of names) {
      try {
        values.set(name, (await parts.secrets.reveal(name, { actor: 'system:config', sourceIp: null })).toString('utf8'));
      } catch (err) {
        // A missing secret is reported by the parser with its YAML path and line, with every other problem.
        if (!(isVigilError(err) && err.code === 'VGL_SECRET_NOT_FOUND')) throw err;
      }
    }
  } finally {
    await store.close();
  }
  return parseConfig(text, file, env, values);
}

/**
 * The config as far as the tools that open the store need it (`secrets`, `audit`, `keys`, `doctor`):
 * only the `store`, `vault` and `audit` sections are read, so they work even when other sections
 * reference secrets that are not set yet.
 */
export function loadVaultLocation(file: string | undefined, env: NodeJS.ProcessEnv): LoadedConfig {
  if (file === undefined) return defaultConfig();
  return locationOf(readConfigText(file), file, env);
}

function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new VigilError('VGL_CONFIG_NOT_FOUND', `cannot read config ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
}

/** Validates just the `store`, `vault` and `audit` sections, to find the vault before the rest can be read. */
function locationOf(text: string, file: string, env: NodeJS.ProcessEnv): LoadedConfig {
  const doc = parseDocument(text, { uniqueKeys: true });
  const raw = doc.errors.length === 0 ? (doc.toJS({ maxAliasCount: 100 }) as unknown) : undefined;
  const subset: Record<string, unknown> = {};
  if (raw !== null && typeof raw === 'object') {
    for (const key of VAULT_LOCATION_KEYS) if (key in raw) subset[key] = (raw as Record<string, unknown>)[key];
  }
  // A broken file is reported in full by the real parse below; here only the location matters.
  return parseConfig(JSON.stringify(subset), file, env);
}
