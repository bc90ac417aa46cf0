import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { AuditLog } from '../audit/audit-log.js';
import { FieldCipher, PiiTokenizer } from '../pii/tokenize.js';
import type { VigilConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';
import { defaultMasterKeyFile, MasterKeyring } from './master-key.js';
import { SecretStore } from './secret-store.js';
import { Vault } from './vault.js';

export const AUDIT_SIGNING_KEY = 'audit-signing-key';
export const PII_TOKEN_KEY = 'pii-token-key';
export const FIELD_ENCRYPTION_KEY = 'field-encryption-key';

export interface VaultParts {
  vault: Vault;
  secrets: SecretStore;
  audit: AuditLog;
  /** Checks the master key against the store (generating it on a first start); call before use. */
  ready(): Promise<void>;
  /** PII tokenization and field encryption, each under its own key kept in the vault. */
  pii(): Promise<{ tokenizer: PiiTokenizer; fields: FieldCipher }>;
}

/**
 * Assembles the vault, the secret store and the audit log over one store. The audit log's
 * checkpoint key lives in the vault; the secret store records into the audit log.
 */
export function openVault(input: { store: Store; dataDir: string; config: VigilConfig; env: NodeJS.ProcessEnv; clock: Clock; logger?: Logger }): VaultParts {
  const file = resolve(input.config.vault.masterKeyFile ?? defaultMasterKeyFile(input.dataDir));
  const vault = new Vault(input.store.secrets, new MasterKeyring({ env: input.env, file }));
  // The audit log signs with a key from the secret store, which records into the audit log: tie the knot lazily.
  const holder: { secrets?: SecretStore } = {};
  const audit = new AuditLog(
    input.store.audit,
    () => (holder.secrets as SecretStore).internalKey(AUDIT_SIGNING_KEY, () => randomBytes(32)),
    input.config.audit,
    input.logger?.child({ component: 'audit' }),
  );
  const secrets = new SecretStore(vault, audit, input.clock);
  holder.secrets = secrets;
  let verified: Promise<void> | undefined;
  const pii = async () => ({
    tokenizer: new PiiTokenizer(await secrets.internalKey(PII_TOKEN_KEY, () => randomBytes(32))),
    fields: new FieldCipher(await secrets.internalKey(FIELD_ENCRYPTION_KEY, () => randomBytes(32))),
  });
  return { vault, secrets, audit, ready: () => (verified ??= vault.verifyMasterKey()), pii };
}
