import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { entryHash } from '../../src/audit/chain.js';
import type { AuditEvent } from '../../src/audit/sink.js';
import { openTestVault, who } from '../vault/support.js';

const event = (i: number): AuditEvent => ({
  at: 1_700_000_000_000 + i,
  actor: `user${i % 3}`,
  action: 'keys.create',
  target: `key-${i}`,
  sourceIp: '10.0.0.1',
  result: 'success',
  details: { n: i },
});

async function logWith(entries: number, checkpointEvery = 5) {
  const v = await openTestVault({ config: { audit: { checkpointEvery } } });
  for (let i = 1; i <= entries; i++) await v.audit.record(event(i));
  const db = new Database(join(v.dataDir, 'vigil.db'));
  return { v, db };
}

type Row = { seq: number; at: number; actor: string; action: string; target: string; source_ip: string | null; result: string; details: string; prev_hash: string; hash: string };

/** Recomputes a row's hash as an attacker who knows the scheme (but not the checkpoint key) would. */
function rehash(db: Database.Database, seq: number): void {
  const r = db.prepare('SELECT * FROM audit_log WHERE seq = ?').get(seq) as Row;
  const hash = entryHash(r.seq, r.prev_hash, { at: r.at, actor: r.actor, action: r.action, target: r.target, sourceIp: r.source_ip, result: r.result, details: r.details });
  db.prepare('UPDATE audit_log SET hash = ? WHERE seq = ?').run(hash, seq);
}

describe('audit log', () => {
  it('an untouched chain verifies, with signed checkpoints', async () => {
    const { v } = await logWith(23);
    const report = await v.audit.verify();
    assert.equal(report.ok, true, report.problem?.message);
    assert.equal(report.entries, 23);
    assert.equal(report.checkpoints, 4);
  });

  it('detects and locates a modified entry', async () => {
    const { v, db } = await logWith(12);
    db.prepare("UPDATE audit_log SET actor = 'mallory' WHERE seq = 7").run();
    const report = await v.audit.verify();
    assert.deepEqual([report.problem?.kind, report.problem?.seq], ['modified', 7]);
  });

  it('detects a modified entry whose hash was recomputed (the next link breaks, or the checkpoint)', async () => {
    const { v, db } = await logWith(12);
    db.prepare("UPDATE audit_log SET result = 'denied' WHERE seq = 4").run();
    rehash(db, 4);
    const report = await v.audit.verify();
    assert.deepEqual([report.problem?.kind, report.problem?.seq], ['inserted', 5]);
    assert.match(report.problem?.message ?? '', /does not chain to entry 4/);
  });

  it('detects and locates deleted entries, in the middle and at the end', async () => {
    const { v, db } = await logWith(12);
    db.prepare('DELETE FROM audit_log WHERE seq IN (6, 7)').run();
    let report = await v.audit.verify();
    assert.deepEqual([report.problem?.kind, report.problem?.seq], ['deleted', 6]);
    assert.match(report.problem?.message ?? '', /entries 6\.\.7 were deleted/);
    const tail = await logWith(12);
    tail.db.prepare('DELETE FROM audit_log WHERE seq > 8').run();
    report = await tail.v.audit.verify();
    assert.deepEqual([report.problem?.kind, report.problem?.seq], ['truncated', 9]);
  });

  it('detects an inserted entry', async () => {
    const { v, db } = await logWith(12);
    // Make room by shifting 8.. up one (as an attacker with SQL access could), then forge entry 8.
    db.prepare('UPDATE audit_log SET seq = seq + 100 WHERE seq >= 8').run();
    db.prepare('UPDATE audit_log SET seq = seq - 99 WHERE seq >= 108').run();
    const prev = db.prepare('SELECT hash FROM audit_log WHERE seq = 7').pluck().get() as string;
    const forged = { at: 1, actor: 'admin', action: 'roles.grant', target: 'mallory', sourceIp: null, result: 'success', details: '{}' };
    db.prepare(
      'INSERT INTO audit_log (seq, at, actor, action, target, source_ip, result, details, prev_hash, hash) VALUES (8, @at, @actor, @action, @target, @sourceIp, @result, @details, @prev, @hash)',
    ).run({ ...forged, prev, hash: entryHash(8, prev, forged) });
    const report = await v.audit.verify();
    assert.equal(report.ok, false);
    assert.deepEqual([report.problem?.kind, report.problem?.seq], ['inserted', 8], report.problem?.message);
    assert.match(report.problem?.message ?? '', /position 9 holds the original entry 8/);
  });

  it('detects reordered entries', async () => {
    const { v, db } = await logWith(12);
    const swap = db.transaction(() => {
      db.prepare('UPDATE audit_log SET seq = -1 WHERE seq = 5').run();
      db.prepare('UPDATE audit_log SET seq = 5 WHERE seq = 6').run();
      db.prepare('UPDATE audit_log SET seq = 6 WHERE seq = -1').run();
    });
    swap();
    const report = await v.audit.verify();
    assert.deepEqual([report.problem?.kind, report.problem?.seq], ['reordered', 5]);
    assert.match(report.problem?.message ?? '', /position 5 holds entry 6/);
  });

  it('detects a rewritten chain through the signed checkpoints, and a forged checkpoint', async () => {
    const { v, db } = await logWith(12);
    db.prepare("UPDATE audit_log SET actor = 'nobody' WHERE seq = 3").run();
    for (let seq = 3; seq <= 12; seq++) {
      if (seq > 3) db.prepare('UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE seq = ?) WHERE seq = ?').run(seq - 1, seq);
      rehash(db, seq);
    }
    let report = await v.audit.verify();
    assert.deepEqual([report.problem?.kind, report.problem?.seq], ['modified', 5]);
    assert.match(report.problem?.message ?? '', /signed checkpoint/);
    const head = db.prepare('SELECT hash FROM audit_log WHERE seq = 5').pluck().get() as string;
    db.prepare('UPDATE audit_checkpoints SET hash = ? WHERE seq = 5').run(head);
    report = await v.audit.verify();
    assert.deepEqual([report.problem?.kind, report.problem?.seq], ['checkpoint', 5]);
  });

  it('fail-closed: an unwritable audit log refuses the action and the action does not happen', async () => {
    const v = await openTestVault();
    await v.secrets.set('BEFORE', Buffer.from('v1'), who);
    const db = new Database(join(v.dataDir, 'vigil.db'));
    db.exec("CREATE TRIGGER audit_read_only BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit store is read-only'); END");
    await assert.rejects(v.secrets.set('BLOCKED', Buffer.from('x'), who), (err: { code?: string }) => err.code === 'VGL_AUDIT_WRITE_FAILED');
    await assert.rejects(v.secrets.delete('BEFORE', who), (err: { code?: string }) => err.code === 'VGL_AUDIT_WRITE_FAILED');
    await assert.rejects(v.secrets.reveal('BEFORE', who), (err: { code?: string }) => err.code === 'VGL_AUDIT_WRITE_FAILED');
    assert.equal(await v.store.secrets.get('BLOCKED'), undefined);
    assert.ok(await v.store.secrets.get('BEFORE'));
    db.exec('DROP TRIGGER audit_read_only');
    assert.equal(await v.secrets.set('BLOCKED', Buffer.from('x'), who), 1, 'works again once the log is writable');
    assert.equal((await v.audit.verify()).ok, true);
  });

  it('fail-open when configured: the action goes ahead and the failure is logged', async () => {
    const v = await openTestVault({ config: { audit: { failClosed: false } } });
    const db = new Database(join(v.dataDir, 'vigil.db'));
    db.exec("CREATE TRIGGER audit_read_only BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'read-only'); END");
    assert.equal(await v.secrets.set('GOES', Buffer.from('x'), who), 1);
  });

  it('records requested and outcome entries for secret operations, never the value', async () => {
    const v = await openTestVault();
    await v.secrets.set('API', Buffer.from('canary-audit-value-5521'), who);
    await v.secrets.reveal('API', who).catch(() => undefined);
    await v.secrets.delete('MISSING', who).catch(() => undefined);
    const entries = [];
    for await (const e of v.audit.pages()) entries.push(e);
    assert.deepEqual(
      entries.map((e) => `${e.action}:${e.target}:${e.result}`),
      ['secrets.set:API:requested', 'secrets.set:API:success', 'secrets.reveal:API:requested', 'secrets.reveal:API:success', 'secrets.delete:MISSING:requested', 'secrets.delete:MISSING:failure'],
    );
    assert.equal(JSON.parse(entries[5]?.details ?? '{}').code, 'VGL_SECRET_NOT_FOUND');
    assert.ok(!JSON.stringify(entries).includes('canary-audit-value-5521'));
  });
});
