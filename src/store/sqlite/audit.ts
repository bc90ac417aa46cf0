import type Database from 'better-sqlite3';
import type { AuditCheckpointRecord, AuditEntryRecord, AuditRepository, NewAuditEntry } from '../store.js';
import { guarded } from './guarded.js';

type Row = Record<string, unknown>;

/** The genesis link: the `prevHash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

export class SqliteAudit implements AuditRepository {
  private readonly appendTx;
  private readonly pageStmt;
  private readonly lastStmt;
  private readonly checkpointStmt;
  private readonly checkpointsStmt;

  constructor(db: Database.Database) {
    const last = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    const insert = db.prepare(
      `INSERT INTO audit_log (seq, at, actor, action, target, source_ip, result, details, prev_hash, hash)
       VALUES (@seq, @at, @actor, @action, @target, @sourceIp, @result, @details, @prevHash, @hash)`,
    );
    const tx = db.transaction((entry: NewAuditEntry, chain: (seq: number, prevHash: string) => string): AuditEntryRecord => {
      const prev = last.get() as { seq: number; hash: string } | undefined;
      const seq = (prev?.seq ?? 0) + 1;
      const prevHash = prev?.hash ?? GENESIS_HASH;
      const record: AuditEntryRecord = { ...entry, seq, prevHash, hash: chain(seq, prevHash) };
      insert.run(record);
      return record;
    });
    // IMMEDIATE takes the write lock before reading the last entry, so two processes never chain to the same one.
    this.appendTx = (entry: NewAuditEntry, chain: (seq: number, prevHash: string) => string) => tx.immediate(entry, chain);
    this.pageStmt = db.prepare('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?');
    this.lastStmt = db.prepare('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1');
    this.checkpointStmt = db.prepare('INSERT OR REPLACE INTO audit_checkpoints (seq, hash, at, signature) VALUES (@seq, @hash, @at, @signature)');
    this.checkpointsStmt = db.prepare('SELECT * FROM audit_checkpoints ORDER BY seq');
  }

  append(entry: NewAuditEntry, chain: (seq: number, prevHash: string) => string): Promise<AuditEntryRecord> {
    return guarded('audit append', () => this.appendTx(entry, chain));
  }

  page(afterSeq: number, limit: number): Promise<AuditEntryRecord[]> {
    return guarded('audit read', () => (this.pageStmt.all(afterSeq, limit) as Row[]).map(toEntry));
  }

  last(): Promise<AuditEntryRecord | undefined> {
    return guarded('audit read', () => {
      const row = this.lastStmt.get() as Row | undefined;
      return row && toEntry(row);
    });
  }

  addCheckpoint(checkpoint: AuditCheckpointRecord): Promise<void> {
    return guarded('audit checkpoint write', () => {
      this.checkpointStmt.run(checkpoint);
    });
  }

  checkpoints(): Promise<AuditCheckpointRecord[]> {
    return guarded('audit checkpoint read', () => this.checkpointsStmt.all() as AuditCheckpointRecord[]);
  }
}

function toEntry(row: Row): AuditEntryRecord {
  return {
    seq: row.seq as number,
    at: row.at as number,
    actor: row.actor as string,
    action: row.action as string,
    target: row.target as string,
    sourceIp: (row.source_ip as string | null) ?? null,
    result: row.result as string,
    details: row.details as string,
    prevHash: row.prev_hash as string,
    hash: row.hash as string,
  };
}
