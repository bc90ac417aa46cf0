import { VigilError } from '../core/errors.js';
import type { AuditCheckpointRecord, AuditEntryRecord, AuditRepository } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';
import { ChainVerifier, checkpointSignature, entryHash, sameHex } from './chain.js';
import type { VerifyReport } from './chain.js';
import type { AuditEvent, AuditSink } from './sink.js';

export interface AuditLogOptions {
  /** Throw (refusing the action) when an entry cannot be written, instead of logging and carrying on. */
  failClosed: boolean;
  /** A signed checkpoint after every this many entries. */
  checkpointEvery: number;
}

const PAGE = 1000;

/**
 * The durable audit log: append-only and hash-chained in the store, with periodic checkpoints
 * signed by a key kept in the vault (so rewriting the chain needs that key too).
 */
export class AuditLog implements AuditSink {
  constructor(
    private readonly repo: AuditRepository,
    /** The checkpoint signing key, from the vault. */
    private readonly signingKey: () => Promise<Buffer>,
    private readonly options: AuditLogOptions,
    private readonly logger: Logger | undefined,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    let entry: AuditEntryRecord;
    try {
      const row = {
        at: event.at,
        actor: event.actor,
        action: event.action,
        target: event.target,
        sourceIp: event.sourceIp,
        result: event.result,
        details: JSON.stringify(event.details ?? {}),
      };
      entry = await this.repo.append(row, (seq, prevHash) => entryHash(seq, prevHash, row));
    } catch (err) {
      this.logger?.error({ err, action: event.action, target: event.target }, 'audit entry could not be written');
      if (this.options.failClosed) {
        throw new VigilError('VGL_AUDIT_WRITE_FAILED', `the audit log cannot be written, so ${event.action} was refused`, { cause: err });
      }
      return;
    }
    if (entry.seq % this.options.checkpointEvery === 0) await this.checkpoint(entry);
  }

  /** Signs the chain head; the entry is already durable, so a failure here is logged, not thrown. */
  async checkpoint(entry?: AuditEntryRecord): Promise<AuditCheckpointRecord | undefined> {
    try {
      const head = entry ?? (await this.repo.last());
      if (!head) return undefined;
      const at = Date.now();
      const checkpoint = { seq: head.seq, hash: head.hash, at, signature: checkpointSignature(await this.signingKey(), head.seq, head.hash, at) };
      await this.repo.addCheckpoint(checkpoint);
      return checkpoint;
    } catch (err) {
      this.logger?.error({ err }, 'audit checkpoint could not be written');
      return undefined;
    }
  }

  /** Verifies the stored chain and every checkpoint. */
  async verify(): Promise<VerifyReport> {
    return verifyEntries(this.pages(), await this.repo.checkpoints(), await this.signingKey());
  }

  /** Every entry in sequence order, a page at a time. */
  async *pages(): AsyncGenerator<AuditEntryRecord> {
    let after = 0;
    for (;;) {
      const page = await this.repo.page(after, PAGE);
      for (const entry of page) yield entry;
      if (page.length < PAGE) return;
      after = (page[page.length - 1] as AuditEntryRecord).seq;
    }
  }
}

/** Verifies entries from any source (the store, an export file) against signed checkpoints. */
export async function verifyEntries(
  entries: AsyncIterable<AuditEntryRecord> | Iterable<AuditEntryRecord>,
  checkpoints: readonly AuditCheckpointRecord[],
  signingKey: Buffer,
): Promise<VerifyReport> {
  const verifier = new ChainVerifier(checkpoints);
  for await (const entry of entries) if (!verifier.push(entry)) break;
  return verifier.finish((c) => sameHex(checkpointSignature(signingKey, c.seq, c.hash, c.at), c.signature));
}
