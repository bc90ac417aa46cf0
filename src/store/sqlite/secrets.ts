import type Database from 'better-sqlite3';
import type { SecretRepository, SecretSummary, SecretVersionRecord } from '../store.js';
import { guarded } from './guarded.js';

type Row = Record<string, unknown>;

export class SqliteSecrets implements SecretRepository {
  private readonly insertStmt;
  private readonly latestStmt;
  private readonly versionStmt;
  private readonly versionsStmt;
  private readonly listStmt;
  private readonly deleteStmt;
  private readonly otherStmt;
  private readonly keyIdsStmt;
  private readonly rewrapStmt;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT OR IGNORE INTO secret_versions (name, version, ciphertext, wrapped_key, master_key_id, created_at)
       VALUES (@name, @version, @ciphertext, @wrappedKey, @masterKeyId, @createdAt)`,
    );
    this.latestStmt = db.prepare('SELECT * FROM secret_versions WHERE name = ? ORDER BY version DESC LIMIT 1');
    this.versionStmt = db.prepare('SELECT * FROM secret_versions WHERE name = ? AND version = ?');
    this.versionsStmt = db.prepare('SELECT * FROM secret_versions WHERE name = ? ORDER BY version');
    this.listStmt = db.prepare(
      'SELECT name, max(version) AS version, max(created_at) AS updated_at FROM secret_versions GROUP BY name ORDER BY name',
    );
    this.deleteStmt = db.prepare('DELETE FROM secret_versions WHERE name = ?');
    this.otherStmt = db.prepare('SELECT * FROM secret_versions WHERE master_key_id != ? ORDER BY name, version LIMIT ?');
    this.keyIdsStmt = db.prepare('SELECT DISTINCT master_key_id FROM secret_versions').pluck();
    this.rewrapStmt = db.prepare(
      'UPDATE secret_versions SET wrapped_key = ?, master_key_id = ? WHERE name = ? AND version = ? AND master_key_id = ?',
    );
  }

  insertVersion(record: SecretVersionRecord): Promise<boolean> {
    return guarded('secret write', () => this.insertStmt.run(record).changes > 0);
  }

  get(name: string, version?: number): Promise<SecretVersionRecord | undefined> {
    return guarded('secret read', () => {
      const row = (version === undefined ? this.latestStmt.get(name) : this.versionStmt.get(name, version)) as Row | undefined;
      return row && toVersion(row);
    });
  }

  versions(name: string): Promise<SecretVersionRecord[]> {
    return guarded('secret read', () => (this.versionsStmt.all(name) as Row[]).map(toVersion));
  }

  list(): Promise<SecretSummary[]> {
    return guarded('secret list', () =>
      (this.listStmt.all() as Row[]).map((row) => ({ name: row.name as string, version: row.version as number, updatedAt: row.updated_at as number })),
    );
  }

  delete(name: string): Promise<number> {
    return guarded('secret delete', () => this.deleteStmt.run(name).changes);
  }

  wrappedByOther(masterKeyId: string, limit: number): Promise<SecretVersionRecord[]> {
    return guarded('secret read', () => (this.otherStmt.all(masterKeyId, limit) as Row[]).map(toVersion));
  }

  masterKeyIds(): Promise<string[]> {
    return guarded('secret read', () => this.keyIdsStmt.all() as string[]);
  }

  rewrap(name: string, version: number, fromKeyId: string, wrappedKey: Buffer, toKeyId: string): Promise<boolean> {
    return guarded('secret rewrap', () => this.rewrapStmt.run(wrappedKey, toKeyId, name, version, fromKeyId).changes > 0);
  }
}

function toVersion(row: Row): SecretVersionRecord {
  return {
    name: row.name as string,
    version: row.version as number,
    ciphertext: row.ciphertext as Buffer,
    wrappedKey: row.wrapped_key as Buffer,
    masterKeyId: row.master_key_id as string,
    createdAt: row.created_at as number,
  };
}
