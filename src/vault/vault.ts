import { VigilError } from '../core/errors.js';
import type { SecretRepository, SecretVersionRecord } from '../store/store.js';
import { newDataKey, open, seal } from './crypto.js';
import type { MasterKey, MasterKeyring } from './master-key.js';

/** Associated data: binds a ciphertext to one name and version, so it cannot be moved. */
export const valueAad = (name: string, version: number): string => `vigil:secret:${name}:${version}`;
export const dataKeyAad = (name: string, version: number): string => `vigil:data-key:${name}:${version}`;

/**
 * Envelope encryption over the secret repository: each version's value is sealed under a fresh
 * data key, which is sealed under the master key. Plaintext never reaches the store.
 */
export class Vault {
  constructor(
    readonly repo: SecretRepository,
    readonly keyring: MasterKeyring,
  ) {}

  /**
   * Checks that the master key matches what the store holds, generating the key file on a first
   * start with an empty vault. Refuses (and changes nothing) when the keys do not match.
   */
  async verifyMasterKey(): Promise<void> {
    const inUse = await this.repo.masterKeyIds();
    if (!this.keyring.current && !this.keyring.fromEnv) {
      if (inUse.length > 0) {
        throw new VigilError(
          'VGL_VAULT_MASTER_KEY_MISSING',
          `the vault holds secrets wrapped by master key ${inUse.join(', ')} but ${this.keyring.file} does not exist and VIGIL_MASTER_KEY is not set`,
        );
      }
      this.keyring.generate();
      return;
    }
    const unknown = inUse.filter((id) => !this.keyring.byId(id));
    if (unknown.length > 0) {
      throw new VigilError(
        'VGL_VAULT_MASTER_KEY_WRONG',
        `the vault's secrets are wrapped by master key ${unknown.join(', ')}, but the key given is ${this.keyring.ids().join(', ')}; nothing was read or changed`,
      );
    }
  }

  /** Encrypts `value` as version `version` of `name`. */
  encrypt(name: string, version: number, value: Buffer, now: number): SecretVersionRecord {
    this.keyring.reload(); // a rotation may have started since the last write
    const master = this.keyring.writeKey();
    if (!master) throw new VigilError('VGL_VAULT_MASTER_KEY_MISSING', 'no master key is loaded');
    const dataKey = newDataKey();
    try {
      return {
        name,
        version,
        ciphertext: seal(dataKey, value, valueAad(name, version)),
        wrappedKey: seal(master.key, dataKey, dataKeyAad(name, version)),
        masterKeyId: master.id,
        createdAt: now,
      };
    } finally {
      dataKey.fill(0);
    }
  }

  decrypt(record: SecretVersionRecord): Buffer {
    const dataKey = this.unwrap(record, this.masterFor(record));
    try {
      return open(dataKey, record.ciphertext, valueAad(record.name, record.version), `secret ${record.name} v${record.version}`);
    } finally {
      dataKey.fill(0);
    }
  }

  /** The data key of `record`, unwrapped with `master`. */
  unwrap(record: SecretVersionRecord, master: MasterKey): Buffer {
    return open(master.key, record.wrappedKey, dataKeyAad(record.name, record.version), `data key of ${record.name} v${record.version}`);
  }

  masterFor(record: SecretVersionRecord): MasterKey {
    const master = this.keyring.byId(record.masterKeyId);
    if (!master) {
      throw new VigilError('VGL_VAULT_MASTER_KEY_WRONG', `secret ${record.name} v${record.version} is wrapped by master key ${record.masterKeyId}, which is not loaded`);
    }
    return master;
  }
}
