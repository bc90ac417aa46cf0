import type Database from 'better-sqlite3';
import type { ApiKey } from '../records.js';
import type { KeyRepository, KeyUsage } from '../store.js';
import { guarded } from './guarded.js';

type Row = Record<string, unknown>;

export class SqliteKeys implements KeyRepository {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly listStmt;
  private readonly revokeStmt;
  private readonly revisionStmt;
  private readonly usageMany;

  constructor(db: Database.Database) {
    const nextRev = '(SELECT coalesce(max(rev), 0) + 1 FROM api_keys)';
    this.insertStmt = db.prepare(
      `INSERT INTO api_keys (id, name, hash, scopes, created_at, expires_at, revoked_at, owner, replaced_by, rev)
       VALUES (@id, @name, @hash, @scopes, @createdAt, @expiresAt, @revokedAt, @owner, @replacedBy, ${nextRev})`,
    );
    this.getStmt = db.prepare('SELECT * FROM api_keys WHERE id = ?');
    this.listStmt = db.prepare('SELECT * FROM api_keys ORDER BY created_at, id');
    // The earlier of the two times wins: revoking during a rotation's grace period ends it now.
    this.revokeStmt = db.prepare(
      `UPDATE api_keys SET revoked_at = CASE WHEN revoked_at IS NULL OR revoked_at > @at THEN @at ELSE revoked_at END,
         replaced_by = coalesce(@replacedBy, replaced_by), rev = ${nextRev} WHERE id = @id`,
    );
    this.revisionStmt = db.prepare('SELECT coalesce(max(rev), 0) AS rev FROM api_keys').pluck();
    // Usage does not bump `rev`: it changes no verdict, so gateways need not reload for it.
    const usage = db.prepare('UPDATE api_keys SET last_used_at = @at, last_used_ip = @ip WHERE id = @id AND (last_used_at IS NULL OR last_used_at <= @at)');
    this.usageMany = db.transaction((batch: readonly KeyUsage[]) => {
      for (const u of batch) usage.run(u);
    });
  }

  insert(key: ApiKey): Promise<void> {
    return guarded('key insert', () => {
      this.insertStmt.run({ ...key, scopes: JSON.stringify(key.scopes), owner: key.owner ?? null, replacedBy: key.replacedBy ?? null });
    });
  }

  get(id: string): Promise<ApiKey | undefined> {
    return guarded('key read', () => {
      const row = this.getStmt.get(id) as Row | undefined;
      return row && toKey(row);
    });
  }

  list(): Promise<ApiKey[]> {
    return guarded('key list', () => (this.listStmt.all() as Row[]).map(toKey));
  }

  revoke(id: string, at: number, replacedBy?: string): Promise<boolean> {
    return guarded('key revoke', () => this.revokeStmt.run({ id, at, replacedBy: replacedBy ?? null }).changes > 0);
  }

  recordUsage(batch: readonly KeyUsage[]): Promise<void> {
    return guarded('key usage write', () => this.usageMany(batch));
  }

  revision(): Promise<number> {
    return guarded('key revision', () => this.revisionStmt.get() as number);
  }
}

function toKey(row: Row): ApiKey {
  return {
    id: row.id as string,
    name: row.name as string,
    hash: row.hash as string,
    scopes: JSON.parse(row.scopes as string) as string[],
    createdAt: row.created_at as number,
    expiresAt: (row.expires_at as number | null) ?? null,
    revokedAt: (row.revoked_at as number | null) ?? null,
    owner: (row.owner as string | null) ?? null,
    lastUsedAt: (row.last_used_at as number | null) ?? null,
    lastUsedIp: (row.last_used_ip as string | null) ?? null,
    replacedBy: (row.replaced_by as string | null) ?? null,
  };
}
