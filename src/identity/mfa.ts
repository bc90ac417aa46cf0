import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomInt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSecret, generateURI, verify } from 'otplib';
import { VigilError } from '../core/errors.js';
import { ensurePrivateFile } from '../store/data-dir.js';
import type { User } from '../store/records.js';
import type { MfaRepository } from '../store/store.js';

const KEY_FILE = 'mfa.key';
const RECOVERY_CODES = 10;
const RECOVERY_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const RECOVERY_SHAPE = /^[a-z2-7]{10}$/;
const TOTP_SHAPE = /^\d{6}$/;

export interface MfaPolicy {
  issuer: string;
  requiredRoles: readonly string[];
}

/**
 * TOTP as RFC 6238 (SHA-1, 6 digits, 30 s, ±1 step) through otplib. Each accepted code moves the
 * user's last step forward in one conditional update, so a code cannot be used twice — not even
 * by two requests racing. Secrets are sealed with AES-256-GCM under `mfa.key` (0600, outside the
 * database); recovery codes are stored as HMACs and spent on use.
 */
export class MfaService {
  private keys: { seal: Buffer; recovery: Buffer } | undefined;

  constructor(
    private readonly repo: MfaRepository,
    private readonly dataDir: string,
    private readonly policy: MfaPolicy,
  ) {}

  required(role: string): boolean {
    return this.policy.requiredRoles.includes(role);
  }

  async enabled(userId: string): Promise<boolean> {
    return (await this.repo.get(userId))?.enabledAt != null;
  }

  /** A new secret and its otpauth URI (for a QR code); not active until a code from it is confirmed. */
  async enrol(user: User): Promise<{ secret: string; otpauthUri: string }> {
    const secret = generateSecret();
    await this.repo.begin({ userId: user.id, secretBox: this.seal(secret), enabledAt: null, lastStep: -1 });
    return { secret, otpauthUri: generateURI({ issuer: this.policy.issuer, label: user.username, secret }) };
  }

  /** Turns MFA on with the first valid code; returns the ten recovery codes, shown once. */
  async confirm(user: User, code: string, now: number): Promise<string[]> {
    const enrolment = await this.repo.get(user.id);
    if (!enrolment) throw new VigilError('VGL_MFA_ENROLMENT_REQUIRED', 'start with POST /api/v1/auth/mfa/enrol');
    if (!(await this.checkTotp(user.id, this.open(enrolment.secretBox), enrolment.lastStep, code, now))) {
      throw new VigilError('VGL_MFA_INVALID', 'the code is not valid');
    }
    const codes = Array.from({ length: RECOVERY_CODES }, () => recoveryCode());
    await this.repo.enable(user.id, now, codes.map((c) => this.hashRecovery(c)));
    return codes.map((c) => `${c.slice(0, 5)}-${c.slice(5)}`);
  }

  /** True for a fresh TOTP code or an unspent recovery code (which is spent). */
  async verify(user: User, code: string, now: number): Promise<boolean> {
    const enrolment = await this.repo.get(user.id);
    if (!enrolment || enrolment.enabledAt === null) return false;
    const normalized = code.toLowerCase().replace(/[\s-]/g, '');
    if (RECOVERY_SHAPE.test(normalized)) return this.repo.useRecoveryCode(user.id, this.hashRecovery(normalized), now);
    return this.checkTotp(user.id, this.open(enrolment.secretBox), enrolment.lastStep, code, now);
  }

  unusedRecoveryCodes(userId: string): Promise<number> {
    return this.repo.unusedRecoveryCodes(userId);
  }

  /** Turns MFA off for the user (an administrator's reset for a lost authenticator). */
  remove(userId: string): Promise<void> {
    return this.repo.remove(userId);
  }

  private async checkTotp(userId: string, secret: string, lastStep: number, code: string, now: number): Promise<boolean> {
    if (!TOTP_SHAPE.test(code)) return false;
    const epoch = Math.floor(now / 1000);
    let result: Awaited<ReturnType<typeof verify>>;
    try {
      result = await verify({ secret, token: code, epoch, epochTolerance: 30, ...(lastStep >= 0 ? { afterTimeStep: lastStep } : {}) });
    } catch {
      return false;
    }
    if (!result.valid) return false;
    // The matched step; the conditional update refuses it when it is not after the last one used.
    return this.repo.advanceStep(userId, Math.floor(epoch / 30) + result.delta);
  }

  private material(): { seal: Buffer; recovery: Buffer } {
    if (!this.keys) {
      const file = join(this.dataDir, KEY_FILE);
      ensurePrivateFile(file);
      let key = readFileSync(file);
      if (key.length === 0) {
        key = randomBytes(32);
        writeFileSync(file, key, { mode: 0o600 });
      }
      if (key.length !== 32) throw new VigilError('VGL_STORE_FAILED', `${file} is corrupt (expected 32 bytes)`);
      // One file, two independent keys: sealing secrets and hashing recovery codes.
      this.keys = {
        seal: Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'vigil mfa seal', 32)),
        recovery: Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'vigil mfa recovery', 32)),
      };
    }
    return this.keys;
  }

  private seal(secret: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.material().seal, iv);
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
  }

  private open(box: string): string {
    try {
      const [iv, tag, body] = box.split('.').map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
      const decipher = createDecipheriv('aes-256-gcm', this.material().seal, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new VigilError('VGL_STORE_FAILED', 'a stored TOTP secret cannot be opened (wrong or replaced mfa.key?)', { cause: err });
    }
  }

  private hashRecovery(code: string): string {
    return createHmac('sha256', this.material().recovery).update(code).digest('hex');
  }
}

function recoveryCode(): string {
  let out = '';
  for (let i = 0; i < 10; i++) out += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
  return out;
}
