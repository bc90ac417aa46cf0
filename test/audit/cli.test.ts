import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { cliWorkspace } from '../support/cli.js';

const CANARY = 'canary-cli-secret-31f9-NEVER-PRINT';


describe('vigil audit', () => {
  it('records key and secret actions; verify passes, then locates tampering; export round-trips', () => {
    const { dir, dataDir, vigil } = cliWorkspace();
    const created = vigil(['keys', 'create', '--name', 'agent', '--json']);
    assert.equal(created.status, 0, created.stderr);
    const key = JSON.parse(created.stdout) as { id: string };
    assert.equal(vigil(['keys', 'revoke', key.id]).status, 0);
    const ok = vigil(['audit', 'verify']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /audit log ok: 4 entries, last 4/);

    const out = join(dir, 'audit.jsonl');
    const exported = vigil(['audit', 'export', '--out', out]);
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; result: string; actor: string; target: string });
    assert.deepEqual(lines.map((l) => `${l.action}:${l.result}`), [
      'keys.create:requested', 'keys.create:success', 'keys.revoke:requested', 'keys.revoke:success',
    ]);
    assert.match(lines[0]?.actor ?? '', /^cli:/);
    assert.ok(!readFileSync(out, 'utf8').includes(CANARY));
    assert.match(vigil(['audit', 'export', '--out', out]).stderr, /VGL_FILE_INVALID: cannot create .* EEXIST/, 'never overwrites');
    // Reorder two lines of the export: located.
    const text = readFileSync(out, 'utf8').trim().split('\n');
    const swapped = [text[0], text[2], text[1], ...text.slice(3)].join('\n');
    writeFileSync(join(dir, 'swapped.jsonl'), swapped);
    const reordered = vigil(['audit', 'verify', '--file', join(dir, 'swapped.jsonl')]);
    assert.equal(reordered.status, 1);
    assert.match(reordered.stderr, /TAMPERED at entry 2 \(reordered\): entry 2 comes after entry 3/);
    writeFileSync(join(dir, 'garbage.jsonl'), `${text[0]}\n{"seq": "one"}\nnot json\n`);
    const garbage = vigil(['audit', 'verify', '--file', join(dir, 'garbage.jsonl')]);
    assert.equal(garbage.status, 1);
    assert.match(garbage.stderr, /VGL_FILE_INVALID: .*garbage\.jsonl line 2: not an audit entry/);

    const db = new Database(join(dataDir, 'vigil.db'));
    db.prepare("UPDATE audit_log SET target = 'someone-else' WHERE seq = 4").run();
    db.close();
    const tampered = vigil(['audit', 'verify', '--json']);
    assert.equal(tampered.status, 1);
    const report = JSON.parse(tampered.stdout) as { ok: boolean; problem: { kind: string; seq: number } };
    assert.deepEqual([report.ok, report.problem.kind, report.problem.seq], [false, 'modified', 4]);
  });
});
