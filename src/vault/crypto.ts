import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { VigilError } from '../core/errors.js';

/** AES-256-GCM with a random 96-bit nonce: sealed = nonce(12) ‖ ciphertext ‖ tag(16). */
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

/** Encrypts `plaintext` under `key`, binding `aad` (e.g. the secret's name and version) to the result. */
export function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/**
 * Decrypts what `seal` produced. Throws VGL_VAULT_DECRYPT_FAILED when the key, the bytes or the
 * associated data differ — a ciphertext copied to another name or version fails here.
 */
export function open(key: Buffer, sealed: Buffer, aad: string, what: string): Buffer {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new VigilError('VGL_VAULT_DECRYPT_FAILED', `${what}: ciphertext is truncated`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch (err) {
    throw new VigilError('VGL_VAULT_DECRYPT_FAILED', `${what}: ciphertext does not authenticate (modified, or moved from another secret)`, { cause: err });
  }
}

/** A public fingerprint of a master key: names the key in records and errors without revealing it. */
export function masterKeyId(key: Buffer): string {
  return createHmac('sha256', key).update('vigil master key id v1').digest('hex').slice(0, 16);
}

/** A purpose-bound subkey (HKDF-SHA256), so one key never serves two purposes. */
export function deriveKey(key: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `vigil:${purpose}`, KEY_BYTES));
}

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}
