import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VigilError } from '../core/errors.js';
import { ensurePrivateFile } from '../store/data-dir.js';
import type { ApiKey } from '../store/records.js';
import type { KeyRepository } from '../store/store.js';
import { KeyUsageBuffer } from './key-usage.js';

/**
 * API keys look like `vgl_<12-char id>_<32-char secret>`: recognisable, so the scanner can find
 * leaked ones, and split so that the ID finds the row while only a keyed hash of the secret is stored.
 * The secret has 32 base62 characters, about 190 bits.
 */
export const API_KEY_PATTERN = /^vgl_([a-z2-7]{12})_([A-Za-z0-9]{32})$/;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HASH_KEY_FILE = 'api-key-hash.key';

function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** The HMAC key for API key hashes, created 0600 in the data dir on first use; a looser file is refused. */
export function loadKeyHashSecret(dataDir: string): Buffer {
  const file = join(dataDir, HASH_KEY_FILE);
  ensurePrivateFile(file);
  let secret = readFileSync(file);
  if (secret.length === 0) {
    secret = randomBytes(32);
    writeFileSync(file, secret, { mode: 0o600 });
  }
  if (secret.length !== 32) throw new VigilError('VGL_STORE_FAILED', `${file} is corrupt (expected 32 bytes)`);
  return secret;
}

export interface CreatedKey {
  key: ApiKey;
  /** The full key; shown once, never stored. */
  plaintext: string;
}

export class ApiKeyService {
  constructor(
    private readonly repo: KeyRepository,
    private readonly hashSecret: Buffer,
  ) {}

  hash(secret: string): string {
    return this.digest(secret).toString('hex');
  }

  /** The HMAC-SHA256 of a key's secret part, as bytes (stored as hex). */
  digest(secret: string): Buffer {
    return createHmac('sha256', this.hashSecret).update(secret).digest();
  }

  async create(input: { name: string; scopes: string[]; expiresAt: number | null; owner?: string | null; now: number }): Promise<CreatedKey> {
    const id = randomString(ID_ALPHABET, 12);
    const secret = randomString(SECRET_ALPHABET, 32);
    const key: ApiKey = {
      id,
      name: input.name,
      hash: this.hash(secret),
      scopes: [...input.scopes],
      createdAt: input.now,
      expiresAt: input.expiresAt,
      revokedAt: null,
      owner: input.owner ?? null,
      lastUsedAt: null,
      lastUsedIp: null,
      replacedBy: null,
    };
    await this.repo.insert(key);
    return { key, plaintext: `vgl_${id}_${secret}` };
  }

  async revoke(id: string, now: number): Promise<void> {
    if (!(await this.repo.revoke(id, now))) throw new VigilError('VGL_KEY_NOT_FOUND', `no API key with id '${id}'`);
  }

  /**
   * Replaces a key with a new one of the same name, scopes, owner and expiry. Both work until the
   * grace period ends; then the old one is revoked by itself (its revocation time is set now, in
   * the future), so deployments can switch over without an outage.
   */
  async rotate(id: string, graceMs: number, now: number): Promise<CreatedKey & { oldKeyEndsAt: number }> {
    const old = await this.repo.get(id);
    if (!old) throw new VigilError('VGL_KEY_NOT_FOUND', `no API key with id '${id}'`);
    if ((old.revokedAt !== null && old.revokedAt <= now) || (old.expiresAt !== null && old.expiresAt <= now)) {
      throw new VigilError('VGL_KEY_NOT_FOUND', `API key '${id}' is already revoked or expired; create a new one instead`);
    }
    const created = await this.create({ name: old.name, scopes: old.scopes, expiresAt: old.expiresAt, owner: old.owner ?? null, now });
    const oldKeyEndsAt = now + graceMs;
    await this.repo.revoke(id, oldKeyEndsAt, created.key.id);
    return { ...created, oldKeyEndsAt };
  }
}

/** Whether the key works at `now`: not revoked yet (a rotation revokes in the future) and not expired. */
export function keyActive(key: ApiKey, now: number): boolean {
  return (key.revokedAt === null || key.revokedAt > now) && (key.expiresAt === null || key.expiresAt > now);
}

export type KeyVerdict = { ok: true; key: ApiKey } | { ok: false };

/**
 * The gateway's view of the key table: all keys in memory, refreshed when the table's revision
 * changes (checked every `pollMs`), so a key revoked from another process stops working within
 * about that long without a store read per request.
 */
/** A cached key with its stored hash decoded once, not per request. */
interface CachedKey {
  readonly key: ApiKey;
  readonly hash: Buffer;
}

/** Compared against when the presented ID is unknown, so the work is the same either way. */
const NO_HASH = Buffer.alloc(32);

export class KeyCache {
  private keys = new Map<string, CachedKey>();
  private revision = -1;
  private timer: NodeJS.Timeout | undefined;
  private readonly usage: KeyUsageBuffer;

  constructor(
    private readonly repo: KeyRepository,
    private readonly service: ApiKeyService,
    private readonly onError: (err: unknown) => void,
  ) {
    this.usage = new KeyUsageBuffer(repo, onError);
  }

  async start(pollMs: number): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch(this.onError);
    }, pollMs).unref();
    this.usage.start();
  }

  /** Stops polling and writes the last-use times still in memory. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.usage.stop();
  }

  /** Writes the last-use times noted so far (normally every few seconds). */
  flushUsage(): Promise<void> {
    return this.usage.flush();
  }

  async refresh(): Promise<void> {
    const revision = await this.repo.revision();
    if (revision === this.revision) return;
    const keys = await this.repo.list();
    this.keys = new Map(keys.map((k) => [k.id, { key: k, hash: Buffer.from(k.hash, 'hex') }]));
    this.revision = revision;
  }

  /** Checks a presented key; a success is noted (in memory) as the key's last use from `clientIp`. */
  verify(token: string, now: number, clientIp?: string): KeyVerdict {
    const match = API_KEY_PATTERN.exec(token);
    if (!match) return { ok: false };
    const cached = this.keys.get(match[1] as string);
    // Hash even for unknown IDs so that timing does not reveal which IDs exist.
    const presented = this.service.digest(match[2] as string);
    const stored = cached?.hash ?? NO_HASH;
    const same = presented.length === stored.length && timingSafeEqual(presented, stored);
    const key = cached?.key;
    if (!key || !same || !keyActive(key, now)) return { ok: false };
    if (clientIp !== undefined) this.usage.note(key.id, clientIp, now);
    return { ok: true, key };
  }
}
