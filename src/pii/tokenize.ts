import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { VigilError } from '../core/errors.js';
import type { PiiKind } from './detectors.js';
import { replacePii } from './detectors.js';

/**
 * Deterministic tokens: HMAC-SHA256 under a key from the vault, so equal values give equal tokens
 * (joins and searches still work) while the value cannot be recovered or guessed without the key.
 */
export class PiiTokenizer {
  constructor(private readonly key: Buffer) {}

  token(kind: PiiKind, value: string): string {
    const normalized = kind === 'email' ? value.toLowerCase() : value.replace(/[\s-]/g, '');
    return `tok_${kind}_${createHmac('sha256', this.key).update(`${kind}:${normalized}`).digest('base64url').slice(0, 22)}`;
  }

  tokenize(text: string, kinds?: ReadonlySet<PiiKind>): string {
    return replacePii(text, (m) => this.token(m.kind, m.value), kinds);
  }
}

/**
 * Field encryption for stored records: AES-256-GCM with a random nonce, the record type and field
 * name as associated data (a value copied into another field fails), `enc:v1:` prefixed base64url.
 */
export class FieldCipher {
  constructor(private readonly key: Buffer) {}

  encrypt(field: string, plaintext: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(field));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `enc:v1:${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  decrypt(field: string, sealed: string): string {
    const raw = sealed.startsWith('enc:v1:') ? Buffer.from(sealed.slice(7), 'base64url') : Buffer.alloc(0);
    if (raw.length < 28) throw new VigilError('VGL_VAULT_DECRYPT_FAILED', `field ${field}: not an encrypted value`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(field));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new VigilError('VGL_VAULT_DECRYPT_FAILED', `field ${field}: the value does not authenticate (modified, or from another field)`, { cause: err });
    }
  }
}
