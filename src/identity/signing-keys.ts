import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { CryptoKey, JWK, JWTVerifyGetKey } from 'jose';
import { VigilError } from '../core/errors.js';
import { ensurePrivateFile } from '../store/data-dir.js';

export type SigningAlgorithm = 'EdDSA' | 'ES256';

/** One signing key as stored: the private JWK (with `kid` and `alg`) and when it was made. */
interface StoredKey {
  kid: string;
  alg: SigningAlgorithm;
  createdAt: number;
  privateJwk: JWK;
}

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  createdAt: number;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

const KEYS_FILE = 'jwt-signing-keys.json';
const MAX_FILE_BYTES = 1_048_576;

export interface SigningKeyPolicy {
  algorithm: SigningAlgorithm;
  /** A new key signs after this long; the old one keeps verifying. */
  rotation: number;
  /** How long a retired key keeps verifying: the longest lifetime of a token it signed. */
  retention: number;
}

/**
 * The JWT signing keys: a private JWK set in a 0600 file in the data directory (a looser file is
 * refused). The newest key signs; older keys verify until every token they signed has expired.
 * `kid` is the key's RFC 7638 thumbprint, so it names exactly one key.
 */
export class SigningKeys {
  private keys: SigningKey[] = [];
  /** The public keys as a verifier, built once per key change: jose caches each imported key in it. */
  private verifier: JWTVerifyGetKey | undefined;
  private readonly file: string;

  constructor(
    dataDir: string,
    private readonly policy: SigningKeyPolicy,
  ) {
    this.file = join(dataDir, KEYS_FILE);
  }

  /** Reads the key file (creating the first key if there is none) and rotates if due; call before use. */
  async open(now: number): Promise<void> {
    await this.load();
    await this.rotateIfDue(now);
  }

  /** Creates a new signing key when the newest is older than the rotation period; drops keys past retention. */
  async rotateIfDue(now: number): Promise<boolean> {
    const newest = this.keys.at(-1);
    const due = !newest || newest.alg !== this.policy.algorithm || now - newest.createdAt >= this.policy.rotation;
    if (due) this.keys.push(await generate(this.policy.algorithm, now));
    const signer = this.keys.at(-1) as SigningKey;
    const kept = this.keys.filter((k) => k === signer || now - k.createdAt < this.policy.rotation + this.policy.retention);
    const changed = due || kept.length !== this.keys.length;
    this.keys = kept;
    if (changed) {
      this.verifier = undefined;
      await this.save();
    }
    return due;
  }

  current(): SigningKey {
    const key = this.keys.at(-1);
    if (!key) throw new VigilError('VGL_TOKEN_INVALID', 'no JWT signing key is loaded yet');
    return key;
  }

  /** The public keys for `/.well-known/jwks.json`: never a private part. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk })) };
  }

  /** Selects a verification key by `kid` from Vigil's own public keys only (never from token headers). */
  keySet(): JWTVerifyGetKey {
    this.verifier ??= createLocalJWKSet(this.jwks());
    return this.verifier;
  }

  private async load(): Promise<void> {
    if (!existsSync(this.file)) return;
    ensurePrivateFile(this.file);
    const text = readFileSync(this.file, 'utf8');
    if (text.length === 0) return;
    try {
      if (text.length > MAX_FILE_BYTES) throw new Error('file too large');
      const stored = JSON.parse(text) as StoredKey[];
      this.keys = await Promise.all(stored.map(async (s) => fromStored(s)));
      this.verifier = undefined;
    } catch (err) {
      throw new VigilError('VGL_STORE_FAILED', `${this.file} is not a valid signing key file: ${(err as Error).message}`, { cause: err });
    }
  }

  private async save(): Promise<void> {
    const stored: StoredKey[] = await Promise.all(
      this.keys.map(async (k) => ({ kid: k.kid, alg: k.alg, createdAt: k.createdAt, privateJwk: await exportJWK(k.privateKey) })),
    );
    // Write then rename, so a crash never leaves half a key file.
    const temp = `${this.file}.tmp`;
    writeFileSync(temp, JSON.stringify(stored), { mode: 0o600 });
    renameSync(temp, this.file);
  }
}

async function generate(alg: SigningAlgorithm, now: number): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const privateJwk = await exportJWK(privateKey);
  return fromStored({ kid: '', alg, createdAt: now, privateJwk });
}

async function fromStored(stored: StoredKey): Promise<SigningKey> {
  const { d: _d, ...pub } = stored.privateJwk;
  const kid = await calculateJwkThumbprint(pub);
  const privateKey = (await importJWK({ ...stored.privateJwk, alg: stored.alg }, stored.alg, { extractable: true })) as CryptoKey;
  return { kid, alg: stored.alg, createdAt: stored.createdAt, privateKey, publicJwk: { ...pub, kid, alg: stored.alg, use: 'sig' } };
}
