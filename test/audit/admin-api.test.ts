import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { addUser, errorCode, sessionCookie, startIdentityApp } from '../identity/support.js';

describe('audit admin API', () => {
  it('pages entries and verifies the chain for audit:read; refuses others', async () => {
    const { app, clock } = await startIdentityApp();
    const now = clock.now();
    const admin = await sessionCookie(app, await addUser(app, 'sec', 'security-admin', now), now);
    const viewer = await sessionCookie(app, await addUser(app, 'view', 'viewer', now), now);
    for (let i = 0; i < 5; i++) await app.audit.record({ at: now, actor: 'sec', action: 'test.action', target: `t${i}`, sourceIp: '127.0.0.1', result: 'success', details: { i } });
    const get = (url: string, cookie?: string) => app.console.app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });

    assert.equal((await get('/api/v1/audit')).statusCode, 401);
    const denied = await get('/api/v1/audit', viewer);
    assert.deepEqual([denied.statusCode, errorCode(denied.body)?.startsWith('VGL_')], [403, true]);
    assert.equal((await get('/api/v1/audit/verify', viewer)).statusCode, 403);

    const first = await get('/api/v1/audit?limit=2', admin);
    assert.equal(first.statusCode, 200);
    const page = JSON.parse(first.body) as { entries: { seq: number; details: unknown }[]; next: number };
    assert.equal(page.entries.length, 2);
    const rest = JSON.parse((await get(`/api/v1/audit?after=${page.next}&limit=1000`, admin)).body) as { entries: { target: string; details: { i?: number } }[] };
    assert.ok(rest.entries.some((e) => e.target === 't4' && e.details.i === 4));
    for (const bad of ['/api/v1/audit?limit=0', '/api/v1/audit?limit=5000', '/api/v1/audit?after=-1', '/api/v1/audit?after=abc']) {
      const res = await get(bad, admin);
      assert.equal(res.statusCode, 400, bad);
      assert.match(errorCode(res.body) ?? '', /^VGL_/);
    }

    let report = JSON.parse((await get('/api/v1/audit/verify', admin)).body) as { ok: boolean; problem?: { kind: string; seq: number } };
    assert.equal(report.ok, true);
    const db = new Database(join(app.loaded.config.store.dataDir as string, 'vigil.db'));
    const seq = db.prepare("SELECT seq FROM audit_log WHERE target = 't2'").pluck().get() as number;
    db.prepare("UPDATE audit_log SET result = 'denied' WHERE seq = ?").run(seq);
    db.close();
    report = JSON.parse((await get('/api/v1/audit/verify', admin)).body) as typeof report;
    assert.deepEqual([report.ok, report.problem?.kind, report.problem?.seq], [false, 'modified', seq]);
  });
});
