import type Database from 'better-sqlite3';
import type { MfaEnrolment } from '../records.js';
import type { MfaRepository } from '../store.js';
import { guarded } from './guarded.js';

type Row = Record<string, unknown>;

export class SqliteMfa implements MfaRepository {
  private readonly getStmt;
  private readonly begin_;
  private readonly enable_;
  private readonly stepStmt;
  private readonly useStmt;
  private readonly unusedStmt;
  private readonly remove_;

  constructor(db: Database.Database) {
    this.getStmt = db.prepare('SELECT * FROM user_mfa WHERE user_id = ?');
    const upsert = db.prepare(
      `INSERT INTO user_mfa (user_id, secret_box, enabled_at, last_step) VALUES (@userId, @secretBox, @enabledAt, @lastStep)
       ON CONFLICT (user_id) DO UPDATE SET secret_box = excluded.secret_box, enabled_at = excluded.enabled_at, last_step = excluded.last_step`,
    );
    const clearCodes = db.prepare('DELETE FROM mfa_recovery_codes WHERE user_id = ?');
    const insertCode = db.prepare('INSERT INTO mfa_recovery_codes (user_id, code_hash, used_at) VALUES (?, ?, NULL)');
    const enable = db.prepare('UPDATE user_mfa SET enabled_at = ? WHERE user_id = ?');
    const removeMfa = db.prepare('DELETE FROM user_mfa WHERE user_id = ?');
    this.begin_ = db.transaction((e: MfaEnrolment) => {
      upsert.run(e);
      clearCodes.run(e.userId);
    });
    this.enable_ = db.transaction((userId: string, at: number, hashes: readonly string[]) => {
      enable.run(at, userId);
      clearCodes.run(userId);
      for (const hash of hashes) insertCode.run(userId, hash);
    });
    this.remove_ = db.transaction((userId: string) => {
      removeMfa.run(userId);
      clearCodes.run(userId);
    });
    this.stepStmt = db.prepare('UPDATE user_mfa SET last_step = ? WHERE user_id = ? AND last_step < ?');
    this.useStmt = db.prepare('UPDATE mfa_recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL');
    this.unusedStmt = db.prepare('SELECT count(*) FROM mfa_recovery_codes WHERE user_id = ? AND used_at IS NULL').pluck();
  }

  get(userId: string): Promise<MfaEnrolment | undefined> {
    return guarded('mfa read', () => {
      const row = this.getStmt.get(userId) as Row | undefined;
      return row && { userId, secretBox: row.secret_box as string, enabledAt: (row.enabled_at as number | null) ?? null, lastStep: row.last_step as number };
    });
  }

  begin(enrolment: MfaEnrolment): Promise<void> {
    return guarded('mfa write', () => this.begin_(enrolment));
  }

  enable(userId: string, at: number, recoveryCodeHashes: readonly string[]): Promise<void> {
    return guarded('mfa write', () => this.enable_(userId, at, recoveryCodeHashes));
  }

  advanceStep(userId: string, step: number): Promise<boolean> {
    return guarded('mfa write', () => this.stepStmt.run(step, userId, step).changes === 1);
  }

  useRecoveryCode(userId: string, codeHash: string, at: number): Promise<boolean> {
    return guarded('mfa write', () => this.useStmt.run(at, userId, codeHash).changes === 1);
  }

  unusedRecoveryCodes(userId: string): Promise<number> {
    return guarded('mfa read', () => this.unusedStmt.get(userId) as number);
  }

  remove(userId: string): Promise<void> {
    return guarded('mfa write', () => this.remove_(userId));
  }
}
