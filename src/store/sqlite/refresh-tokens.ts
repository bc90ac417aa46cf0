import type Database from 'better-sqlite3';
import type { RefreshToken } from '../records.js';
import type { RefreshTokenRepository } from '../store.js';
import { guarded } from './guarded.js';

type Row = Record<string, unknown>;

export class SqliteRefreshTokens implements RefreshTokenRepository {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly useStmt;
  private readonly revokeFamilyStmt;
  private readonly revokeUserStmt;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO refresh_tokens (jti, family_id, user_id, created_at, expires_at, used_at, revoked_at)
       VALUES (@jti, @familyId, @userId, @createdAt, @expiresAt, @usedAt, @revokedAt)`,
    );
    this.getStmt = db.prepare('SELECT * FROM refresh_tokens WHERE jti = ?');
    this.useStmt = db.prepare('UPDATE refresh_tokens SET used_at = ? WHERE jti = ? AND used_at IS NULL AND revoked_at IS NULL');
    this.revokeFamilyStmt = db.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL');
    this.revokeUserStmt = db.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL');
  }

  insert(token: RefreshToken): Promise<void> {
    return guarded('refresh token insert', () => {
      this.insertStmt.run(token);
    });
  }

  get(jti: string): Promise<RefreshToken | undefined> {
    return guarded('refresh token read', () => {
      const row = this.getStmt.get(jti) as Row | undefined;
      return (
        row && {
          jti: row.jti as string,
          familyId: row.family_id as string,
          userId: row.user_id as string,
          createdAt: row.created_at as number,
          expiresAt: row.expires_at as number,
          usedAt: (row.used_at as number | null) ?? null,
          revokedAt: (row.revoked_at as number | null) ?? null,
        }
      );
    });
  }

  markUsed(jti: string, at: number): Promise<boolean> {
    return guarded('refresh token use', () => this.useStmt.run(at, jti).changes === 1);
  }

  revokeFamily(familyId: string, at: number): Promise<number> {
    return guarded('refresh token revoke', () => this.revokeFamilyStmt.run(at, familyId).changes);
  }

  revokeForUser(userId: string, at: number): Promise<number> {
    return guarded('refresh token revoke', () => this.revokeUserStmt.run(at, userId).changes);
  }
}
