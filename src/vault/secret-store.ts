import { withAudit } from '../audit/with-audit.js';
import type { AuditSink } from '../audit/sink.js';
import type { Clock } from '../core/clock.js';
import { VigilError } from '../core/errors.js';
import type { SecretSummary } from '../store/store.js';
import type { Vault } from './vault.js';

/** Names as an operator writes them, env-variable style included; `vigil.` is reserved for Vigil's own keys. */
export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const MAX_SECRET_BYTES = 64 * 1024;
const RESERVED_PREFIX = 'vigil.';

export interface SecretVersionInfo {
  name: string;
  version: number;
  createdAt: number;
  masterKeyId: string;
}

/** Who asks: recorded in the audit log with every operation. */
export interface Actor {
  actor: string;
  sourceIp: string | null;
}

export function checkSecretName(name: string, allowReserved = false): void {
  if (!SECRET_NAME.test(name)) {
    throw new VigilError('VGL_SECRET_INVALID', `'${name.slice(0, 64)}' is not a secret name (1-128 of A-Z a-z 0-9 _ . -, starting with a letter or digit)`);
  }
  if (!allowReserved && name.startsWith(RESERVED_PREFIX)) throw new VigilError('VGL_SECRET_INVALID', `names starting with '${RESERVED_PREFIX}' are reserved for Vigil`);
}

function checkValue(value: Buffer): void {
  if (value.length === 0) throw new VigilError('VGL_SECRET_INVALID', 'the value is empty');
  if (value.length > MAX_SECRET_BYTES) throw new VigilError('VGL_SECRET_INVALID', `the value is ${value.length} bytes; the limit is ${MAX_SECRET_BYTES}`);
}

/** The secret store: versioned, encrypted, every change and every reveal audited. */
export class SecretStore {
  constructor(
    private readonly vault: Vault,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
  ) {}

  /** Stores `value` as the next version of `name`; returns the version number. */
  async set(name: string, value: Buffer, who: Actor): Promise<number> {
    checkSecretName(name);
    checkValue(value);
    return withAudit(this.audit, this.event('secrets.set', name, who), () => this.write(name, value));
  }

  /** The current (or given) version's value. Audited: a reveal is a security-relevant action. */
  async reveal(name: string, who: Actor, version?: number): Promise<Buffer> {
    checkSecretName(name, true);
    return withAudit(this.audit, this.event('secrets.reveal', name, who, version), async () => this.read(name, version));
  }

  list(): Promise<SecretSummary[]> {
    return this.vault.repo.list().then((all) => all.filter((s) => !s.name.startsWith(RESERVED_PREFIX)));
  }

  async versions(name: string): Promise<SecretVersionInfo[]> {
    checkSecretName(name, true);
    const versions = await this.vault.repo.versions(name);
    if (versions.length === 0) throw notFound(name);
    return versions.map(({ name: n, version, createdAt, masterKeyId }) => ({ name: n, version, createdAt, masterKeyId }));
  }

  /** Makes version `version`'s value current again, as a new version (history is kept). */
  async rollback(name: string, version: number, who: Actor): Promise<number> {
    checkSecretName(name);
    return withAudit(this.audit, this.event('secrets.rollback', name, who, version), async () => this.write(name, await this.read(name, version)));
  }

  /** Removes every version of `name`. */
  async delete(name: string, who: Actor): Promise<void> {
    checkSecretName(name);
    return withAudit(this.audit, this.event('secrets.delete', name, who), async () => {
      if ((await this.vault.repo.delete(name)) === 0) throw notFound(name);
    });
  }

  /**
   * The value of a Vigil-internal key (`vigil.<purpose>`), created with `create` on first use.
   * Stored in the vault so that master key rotation re-wraps it with everything else.
   */
  async internalKey(purpose: string, create: () => Buffer): Promise<Buffer> {
    const name = `${RESERVED_PREFIX}${purpose}`;
    const existing = await this.vault.repo.get(name);
    if (existing) return this.vault.decrypt(existing);
    const record = this.vault.encrypt(name, 1, create(), this.clock.now());
    await this.vault.repo.insertVersion(record); // a concurrent creator may win: read back what was stored
    return this.read(name);
  }

  private async read(name: string, version?: number): Promise<Buffer> {
    const record = await this.vault.repo.get(name, version);
    if (!record) throw notFound(name, version);
    return this.vault.decrypt(record);
  }

  private async write(name: string, value: Buffer): Promise<number> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const version = ((await this.vault.repo.get(name))?.version ?? 0) + 1;
      if (await this.vault.repo.insertVersion(this.vault.encrypt(name, version, value, this.clock.now()))) return version;
    }
    throw new VigilError('VGL_STORE_FAILED', `secret ${name}: too many concurrent writers`);
  }

  private event(action: string, name: string, who: Actor, version?: number) {
    return { at: this.clock.now(), actor: who.actor, action, target: name, sourceIp: who.sourceIp, details: version === undefined ? {} : { version } };
  }
}

function notFound(name: string, version?: number): VigilError {
  return new VigilError('VGL_SECRET_NOT_FOUND', version === undefined ? `no secret named '${name}'` : `secret '${name}' has no version ${version}`);
}
