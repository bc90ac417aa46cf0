import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditCheckpointRecord, AuditEntryRecord, NewAuditEntry } from '../store/store.js';

export const GENESIS_HASH = '0'.repeat(64);

/** SHA-256 over the entry's position, content and the previous hash, in a fixed field order. */
export function entryHash(seq: number, prevHash: string, entry: NewAuditEntry): string {
  const fields = [seq, entry.at, entry.actor, entry.action, entry.target, entry.sourceIp, entry.result, entry.details, prevHash];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

export function checkpointSignature(key: Buffer, seq: number, hash: string, at: number): string {
  return createHmac('sha256', key).update(`vigil audit checkpoint v1:${seq}:${hash}:${at}`).digest('hex');
}

/** Constant-time comparison of two hex digests. */
export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export type TamperKind = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'truncated' | 'checkpoint';

export interface VerifyProblem {
  kind: TamperKind;
  /** The sequence number where the chain first goes wrong. */
  seq: number;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  entries: number;
  lastSeq: number;
  checkpoints: number;
  problem: VerifyProblem | undefined;
}

/** How far from its position a moved entry is searched for, to tell reordering from modification. */
const REORDER_SEARCH = 1000;

/**
 * Walks entries in the order given (the store's sequence order, or an export file's line order) and
 * reports the first entry that is not where an untouched chain would have it. Memory stays constant:
 * only the hashes at checkpoint positions are kept.
 */
export class ChainVerifier {
  private prev: AuditEntryRecord | undefined;
  private readonly checkpointHashes = new Map<number, string>();
  private count = 0;
  /** A gap is only a deletion if the missing entry does not turn up next (an export's lines may be swapped). */
  private gap: { problem: VerifyProblem; seq: number } | undefined;
  problem: VerifyProblem | undefined;

  constructor(private readonly checkpoints: readonly AuditCheckpointRecord[]) {
    for (const c of checkpoints) this.checkpointHashes.set(c.seq, '');
  }

  /** Feeds the next entry; returns false once a problem is found (further entries are ignored). */
  push(entry: AuditEntryRecord): boolean {
    if (this.problem) return false;
    this.count++;
    if (this.gap) {
      const gap = this.gap;
      this.gap = undefined;
      if (entry.seq < gap.seq) return this.fail('reordered', entry.seq, `entry ${entry.seq} comes after entry ${gap.seq}: entries were reordered`);
      this.problem = gap.problem;
      return false;
    }
    const prevSeq = this.prev?.seq ?? 0;
    const expectedSeq = prevSeq + 1;
    const after = this.prev ? `entry ${prevSeq}` : 'the start of the log';
    if (entryHash(entry.seq, entry.prevHash, entry) !== entry.hash) {
      const movedFrom = originalPosition(entry);
      if (movedFrom !== undefined && movedFrom < entry.seq) {
        return this.fail('inserted', movedFrom, `position ${entry.seq} holds the original entry ${movedFrom}: ${entry.seq - movedFrom} entr(y/ies) were inserted at ${movedFrom}`);
      }
      if (movedFrom !== undefined) return this.fail('reordered', entry.seq, `position ${entry.seq} holds entry ${movedFrom}: entries were reordered (or deleted and renumbered)`);
      return this.fail('modified', entry.seq, `entry ${entry.seq} was modified: its content does not match its hash`);
    }
    if (entry.seq < expectedSeq) return this.fail('reordered', entry.seq, `entry ${entry.seq} comes after ${after}: entries were reordered`);
    if (entry.prevHash !== (this.prev?.hash ?? GENESIS_HASH)) {
      if (entry.seq > expectedSeq) {
        const problem: VerifyProblem = { kind: 'deleted', seq: expectedSeq, message: `entries ${expectedSeq}..${entry.seq - 1} were deleted (entry ${entry.seq} does not chain to ${after})` };
        this.gap = { problem, seq: entry.seq };
        return true;
      }
      return this.fail('inserted', entry.seq, `entry ${entry.seq} was inserted (or the log rewritten from here): it does not chain to ${after}`);
    }
    if (entry.seq !== expectedSeq) return this.fail('deleted', expectedSeq, `entry ${expectedSeq} is missing`);
    if (this.checkpointHashes.has(entry.seq)) this.checkpointHashes.set(entry.seq, entry.hash);
    this.prev = entry;
    return true;
  }

  /** The verdict; `validSignature` checks a checkpoint's signature with the vault key. */
  finish(validSignature: (c: AuditCheckpointRecord) => boolean): VerifyReport {
    const lastSeq = this.prev?.seq ?? 0;
    if (this.gap) this.problem = this.gap.problem;
    if (!this.problem) {
      for (const checkpoint of this.checkpoints) {
        if (!validSignature(checkpoint)) {
          this.fail('checkpoint', checkpoint.seq, `the checkpoint at entry ${checkpoint.seq} has a bad signature`);
          break;
        }
        if (checkpoint.seq > lastSeq) {
          this.fail('truncated', lastSeq + 1, `entries ${lastSeq + 1}..${checkpoint.seq} were deleted from the end (a signed checkpoint covers entry ${checkpoint.seq})`);
          break;
        }
        if (!sameHex(this.checkpointHashes.get(checkpoint.seq) ?? '', checkpoint.hash)) {
          this.fail('modified', checkpoint.seq, `entry ${checkpoint.seq} does not match its signed checkpoint: the log up to it was rewritten`);
          break;
        }
      }
    }
    return { ok: this.problem === undefined, entries: this.count, lastSeq, checkpoints: this.checkpoints.length, problem: this.problem };
  }

  private fail(kind: TamperKind, seq: number, message: string): false {
    this.problem = { kind, seq, message };
    return false;
  }
}

/** The sequence number an entry was hashed at, when it is not its own: the entry was moved. */
function originalPosition(entry: AuditEntryRecord): number | undefined {
  for (let distance = 1; distance <= REORDER_SEARCH; distance++) {
    for (const seq of [entry.seq - distance, entry.seq + distance]) {
      if (seq > 0 && entryHash(seq, entry.prevHash, entry) === entry.hash) return seq;
    }
  }
  return undefined;
}
