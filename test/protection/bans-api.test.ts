import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addUser, sessionHeaders, startIdentityApp } from '../identity/support.js';
import type { BrowserHeaders } from '../support/helpers.js';

describe('bans admin API', () => {
  it('lists with bans:read, bans and lifts with bans:write, audited; refuses others and bad targets', async () => {
    const { app, clock } = await startIdentityApp({ bans: { allowList: ['10.0.0.0/8'] } });
    const admin = await sessionHeaders(app, await addUser(app, 'sec', 'security-admin', clock.now()), clock.now());
    const dev = await sessionHeaders(app, await addUser(app, 'dev', 'developer', clock.now()), clock.now());
    const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, browser: BrowserHeaders, payload?: object) => app.console.app.inject({ method, url, headers: { ...browser }, ...(payload ? { payload } : {}) });
    const created = await inject('POST', '/api/v1/bans', admin, { target: '203.0.113.0/24', durationSeconds: 600, reason: 'scanner' });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal((JSON.parse(created.body) as { ban: { target: string } }).ban.target, '203.0.113.0/24');
    assert.equal((await inject('POST', '/api/v1/bans', dev, { target: '203.0.113.1', durationSeconds: 60 })).statusCode, 403);
    assert.equal((await inject('GET', '/api/v1/bans', dev)).statusCode, 403);
    const allowed = await inject('POST', '/api/v1/bans', admin, { target: '10.1.2.3', durationSeconds: 60 });
    assert.equal(allowed.statusCode, 409);
    assert.match(allowed.body, /VGL_BAN_ALLOWLISTED/);
    const bad = await inject('POST', '/api/v1/bans', admin, { target: '300.1.1.1/99', durationSeconds: 60 });
    assert.equal(bad.statusCode, 400);
    const list = JSON.parse((await inject('GET', '/api/v1/bans', admin)).body) as { bans: { target: string }[] };
    assert.deepEqual(list.bans.map((b) => b.target), ['203.0.113.0/24']);
    assert.equal((await inject('DELETE', `/api/v1/bans?target=${encodeURIComponent('203.0.113.0/24')}`, admin)).statusCode, 200);
    assert.equal((await inject('DELETE', `/api/v1/bans?target=${encodeURIComponent('203.0.113.0/24')}`, admin)).statusCode, 404);
    const audit = await app.store.audit.page(0, 1000);
    assert.ok(audit.some((entry) => entry.action === 'bans.add' && entry.result === 'success'));
    assert.ok(audit.some((entry) => entry.action === 'bans.remove' && entry.result === 'success'));
  });
});
