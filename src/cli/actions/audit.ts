import { createReadStream, createWriteStream, openSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { verifyEntries } from '../../audit/audit-log.js';
import type { VerifyReport } from '../../audit/chain.js';
import { VigilError } from '../../core/errors.js';
import type { AuditEntryRecord } from '../../store/store.js';
import { AUDIT_SIGNING_KEY } from '../../vault/open.js';
import { withVault } from '../vault-session.js';

const MAX_LINE = 1024 * 1024;

/** Entries of a JSON-lines export, checked for shape; a malformed line is a coded error naming it. */
async function* readExport(file: string): AsyncGenerator<AuditEntryRecord> {
  const input = createReadStream(file);
  const failed = new Promise<never>((_, reject) =>
    input.once('error', (err: NodeJS.ErrnoException) => reject(new VigilError('VGL_FILE_INVALID', `cannot read ${file}: ${err.code ?? 'error'}`, { cause: err }))),
  );
  void failed.catch(() => undefined);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  const iterator = lines[Symbol.asyncIterator]();
  for (;;) {
    const next = await Promise.race([iterator.next(), failed]);
    if (next.done) return;
    n++;
    const line = next.value;
    if (line.trim() === '') continue;
    if (line.length > MAX_LINE) throw new VigilError('VGL_FILE_INVALID', `${file} line ${n}: longer than ${MAX_LINE} bytes`);
    yield parseEntry(line, `${file} line ${n}`);
  }
}

function parseEntry(line: string, where: string): AuditEntryRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new VigilError('VGL_FILE_INVALID', `${where}: not JSON`);
  }
  const e = value as Record<string, unknown>;
  const text = (k: string) => typeof e[k] === 'string';
  const int = (k: string) => Number.isSafeInteger(e[k]);
  if (typeof value !== 'object' || value === null || !int('seq') || !int('at') || !text('actor') || !text('action') || !text('target') || !text('result') || !text('prevHash') || !text('hash') || !(e.sourceIp === null || text('sourceIp')) || typeof e.details !== 'object') {
    throw new VigilError('VGL_FILE_INVALID', `${where}: not an audit entry (seq, at, actor, action, target, sourceIp, result, details, prevHash, hash)`);
  }
  return { ...(e as unknown as AuditEntryRecord), details: JSON.stringify(e.details) };
}

function toExportLine(entry: AuditEntryRecord): string {
  return JSON.stringify({ ...entry, details: JSON.parse(entry.details) as unknown });
}

function printReport(report: VerifyReport, json: boolean | undefined): void {
  if (json) console.log(JSON.stringify(report));
  else if (report.ok) console.log(`audit log ok: ${report.entries} entries, last ${report.lastSeq}, ${report.checkpoints} signed checkpoints`);
  else console.error(`audit log TAMPERED at entry ${report.problem?.seq} (${report.problem?.kind}): ${report.problem?.message}`);
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

export async function runVerify(opts: { config?: string; file?: string; json?: boolean }): Promise<void> {
  const report = await withVault(opts.config, async (s) => {
    if (opts.file === undefined) return s.audit.verify();
    const key = await s.secrets.internalKey(AUDIT_SIGNING_KEY, () => {
      throw new VigilError('VGL_SECRET_NOT_FOUND', 'this data directory has no audit signing key yet');
    });
    return verifyEntries(readExport(opts.file), await s.store.audit.checkpoints(), key);
  });
  printReport(report, opts.json);
  if (!report.ok) process.exitCode = 1;
}

export async function runExport(opts: { config?: string; out?: string }): Promise<void> {
  let out: Writable = process.stdout;
  if (opts.out !== undefined) {
    try {
      out = createWriteStream('', { fd: openSync(opts.out, 'wx', 0o600) });
    } catch (err) {
      throw new VigilError('VGL_FILE_INVALID', `cannot create ${opts.out}: ${(err as NodeJS.ErrnoException).code ?? 'error'} (an existing file is never overwritten)`, { cause: err });
    }
  }
  await withVault(opts.config, async (s) => {
    for await (const entry of s.audit.pages()) await write(out, `${toExportLine(entry)}\n`);
  });
  if (out !== process.stdout) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
