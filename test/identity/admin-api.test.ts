import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { App } from '../../src/app.js';
import { closeSchema, formatSchemaErrors } from '../../src/console/validation.js';
import type { BrowserHeaders } from '../support/helpers.js';
import { addUser, errorCode, sessionCookie, sessionHeaders, startIdentityApp } from './support.js';

type Inject = Awaited<ReturnType<App['console']['app']['inject']>>;

function request(app: App, headers: BrowserHeaders) {
  return (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object): Promise<Inject> =>
    app.console.app.inject({ method, url, headers: { ...headers }, ...(payload === undefined ? {} : { payload }) });
}

async function auditActions(app: App, actor: string): Promise<string[]> {
  return (await app.store.audit.page(0, 1000)).filter((e) => e.actor === actor).map((e) => `${e.action}:${e.target}:${e.result}`);
}

describe('admin API: sessions of a user', () => {
  it('lists live sessions without anything that signs in, revokes one or all, audited', async () => {
    const { app, clock } = await startIdentityApp();
    const admin = await addUser(app, 'adm', 'admin', clock.now());
    const bob = await addUser(app, 'bob', 'developer', clock.now());
    const call = request(app, await sessionHeaders(app, admin, clock.now()));
    const laptop = await sessionCookie(app, bob, clock.now());
    clock.advance(1000);
    const phone = await sessionCookie(app, bob, clock.now());
    const pair = await app.identity.tokens.issue(bob, clock.now());
    const me = (cookie: string) => app.console.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });

    const listed = await call('GET', '/api/v1/users/bob/sessions');
    assert.equal(listed.statusCode, 200, listed.body);
    const { sessions } = JSON.parse(listed.body) as { sessions: { id: string; createdAt: number; sourceIp: string }[] };
    assert.equal(sessions.length, 2);
    assert.deepEqual(Object.keys(sessions[0] ?? {}).sort(), ['createdAt', 'expiresAt', 'id', 'lastSeenAt', 'mfaPending', 'sourceIp']);
    for (const secret of [laptop.split('=')[1] as string, phone.split('=')[1] as string]) assert.ok(!listed.body.includes(secret), 'no session token listed');
    const newest = sessions[0] as { id: string };
    assert.match(newest.id, /^[0-9a-f]{32}$/);

    // Revoke the newest (the phone): the laptop keeps working.
    assert.equal((await call('DELETE', `/api/v1/users/bob/sessions/${newest.id}`)).statusCode, 200);
    assert.equal((await me(phone)).statusCode, 401);
    assert.equal((await me(laptop)).statusCode, 200);
    const again = await call('DELETE', `/api/v1/users/bob/sessions/${newest.id}`);
    assert.equal(again.statusCode, 404);
    assert.equal(errorCode(again.body), 'VGL_SESSION_NOT_FOUND');
    assert.equal(errorCode((await call('DELETE', '/api/v1/users/bob/sessions/not-an-id')).body), 'VGL_CONSOLE_BAD_REQUEST');
    assert.equal(errorCode((await call('GET', '/api/v1/users/ghost/sessions')).body), 'VGL_USER_NOT_FOUND');

    // Revoke all: the laptop session and the refresh tokens end.
    const all = await call('DELETE', '/api/v1/users/bob/sessions');
    assert.equal(all.statusCode, 200, all.body);
    assert.deepEqual(JSON.parse(all.body), { revoked: { sessions: 1, refreshTokens: 1 } });
    assert.equal((await me(laptop)).statusCode, 401);
    await assert.rejects(app.identity.tokens.refresh(pair.refreshToken, clock.now(), { sourceIp: '127.0.0.1', requestId: null }), /revoked/);
    assert.equal(JSON.parse((await call('GET', '/api/v1/users/bob/sessions')).body).sessions.length, 0);

    const actions = await auditActions(app, 'adm');
    for (const expected of ['sessions.revoke:bob:success', 'sessions.revoke:bob:failure', 'sessions.revoke_all:bob:success']) {
      assert.ok(actions.includes(expected), `${expected} in ${actions.join(', ')}`);
    }
  });

  it('lets nobody end the sessions of a role above their own, and a viewer only read them', async () => {
    const { app, clock } = await startIdentityApp();
    const secAdmin = await addUser(app, 'sec', 'security-admin', clock.now());
    const boss = await addUser(app, 'boss', 'owner', clock.now());
    const viewer = await addUser(app, 'viv', 'viewer', clock.now());
    const bossCookie = await sessionCookie(app, boss, clock.now());
    const sec = request(app, await sessionHeaders(app, secAdmin, clock.now()));
    const denied = await sec('DELETE', '/api/v1/users/boss/sessions');
    assert.equal(denied.statusCode, 403, denied.body);
    assert.equal(errorCode(denied.body), 'VGL_CONSOLE_FORBIDDEN');
    assert.equal((await app.console.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: bossCookie } })).statusCode, 200);
    const view = request(app, await sessionHeaders(app, viewer, clock.now()));
    assert.equal((await view('GET', '/api/v1/users/boss/sessions')).statusCode, 200);
    assert.equal((await view('DELETE', '/api/v1/users/boss/sessions')).statusCode, 403);
  });
});

describe('admin API: MFA reset and roles', () => {
  it('turns TOTP off for a user, ends their sessions, audited; refused for a role above one\'s own', async () => {
    const { app, clock } = await startIdentityApp();
    const owner = await addUser(app, 'boss', 'owner', clock.now());
    const admin = await addUser(app, 'adm', 'admin', clock.now());
    const otherAdmin = await addUser(app, 'adm2', 'admin', clock.now());
    const adminSession = await sessionCookie(app, admin, clock.now());
    assert.equal(await app.identity.mfa.enabled(admin.id), true);
    const byOwner = request(app, await sessionHeaders(app, owner, clock.now()));
    const reset = await byOwner('POST', '/api/v1/users/adm/mfa/reset', {});
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal(await app.identity.mfa.enabled(admin.id), false);
    assert.equal((await app.console.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: adminSession } })).statusCode, 401, 'their sessions ended');
    assert.ok((await auditActions(app, 'boss')).includes('users.reset_mfa:adm:success'));
    // An admin cannot strip an owner's second factor.
    const byAdmin = request(app, await sessionHeaders(app, otherAdmin, clock.now()));
    const denied = await byAdmin('POST', '/api/v1/users/boss/mfa/reset', {});
    assert.equal(denied.statusCode, 403, denied.body);
    assert.equal(await app.identity.mfa.enabled(owner.id), true);
    assert.ok((await auditActions(app, 'adm2')).includes('users.reset_mfa:boss:failure'));
  });

  it('lists built-in and custom roles with their permissions, and sets a role', async () => {
    const { app, clock } = await startIdentityApp({ identity: { roles: [{ name: 'auditor', description: 'reads audit', inherits: 'viewer', permissions: ['audit:read'] }] } });
    const owner = await addUser(app, 'boss', 'owner', clock.now());
    await addUser(app, 'dev', 'developer', clock.now());
    const call = request(app, await sessionHeaders(app, owner, clock.now()));
    const { roles } = JSON.parse((await call('GET', '/api/v1/roles')).body) as { roles: { name: string; builtin: boolean; description: string | null; permissions: string[] }[] };
    assert.equal(roles.filter((r) => r.builtin).length, 7);
    const auditor = roles.find((r) => r.name === 'auditor');
    assert.deepEqual(auditor && { builtin: auditor.builtin, description: auditor.description }, { builtin: false, description: 'reads audit' });
    assert.ok(auditor?.permissions.includes('audit:read') && auditor.permissions.includes('monitors:read'));
    const set = await call('POST', '/api/v1/users/dev/role', { role: 'auditor' });
    assert.equal(set.statusCode, 200, set.body);
    assert.equal((await app.identity.users.get('dev')).role, 'auditor');
    assert.ok((await auditActions(app, 'boss')).includes('users.set_role:dev:success'));
  });
});

describe('admin API: unknown fields', () => {
  it('refuses unknown body and query fields with a coded 400 naming the field, changing nothing', async () => {
    const { app, clock } = await startIdentityApp();
    const owner = await addUser(app, 'boss', 'owner', clock.now());
    const call = request(app, await sessionHeaders(app, owner, clock.now()));
    const cases: [string, string, object | undefined, string][] = [
      ['POST', '/api/v1/users', { username: 'eve', role: 'viewer', password: 'violet-harbour-quantum-7-lantern', isAdmin: true }, 'isAdmin'],
      ['POST', '/api/v1/users/boss/role', { role: 'owner', scope: 'all' }, 'scope'],
      ['POST', '/api/v1/keys', { name: 'k', scopes: ['a'], admin: true }, 'admin'],
      ['POST', '/api/v1/auth/login', { username: 'boss', password: 'x', remember: true }, 'remember'],
      ['GET', '/api/v1/security/events?limit=5&debug=1', undefined, 'debug'],
    ];
    for (const [method, url, payload, field] of cases) {
      const res = await call(method as 'GET', url, payload);
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(errorCode(res.body), 'VGL_CONSOLE_BAD_REQUEST', url);
      assert.match(JSON.parse(res.body).error.message, new RegExp(`unknown field '${field}'`), url);
    }
    await assert.rejects(app.identity.users.get('eve'), /VGL_USER_NOT_FOUND|no user/i);
    assert.equal((await app.store.keys.list()).length, 0);
    const missing = await call('POST', '/api/v1/users/boss/role', {});
    assert.match(JSON.parse(missing.body).error.message, /missing field 'role'/);
  });

  it('closes every object schema that does not decide for itself, and names nested fields', () => {
    const closed = closeSchema({
      type: 'object',
      properties: { a: { type: 'object', properties: { b: { type: 'string' } } }, list: { type: 'array', items: { type: 'object', properties: {} } }, open: { type: 'object', additionalProperties: true } },
    }) as Record<string, Record<string, Record<string, unknown>>>;
    assert.equal(closed.additionalProperties, false);
    assert.equal(closed.properties?.a?.additionalProperties, false);
    assert.equal((closed.properties?.list?.items as Record<string, unknown>).additionalProperties, false);
    assert.equal(closed.properties?.open?.additionalProperties, true, 'an explicit choice is kept');
    assert.equal((closeSchema({ anyOf: [{ type: 'object' }] }) as Record<string, unknown>).additionalProperties, undefined);
    const err = formatSchemaErrors([{ keyword: 'additionalProperties', instancePath: '/items/2', schemaPath: '', params: { additionalProperty: 'x' }, message: 'must NOT have additional properties' }], 'body');
    assert.equal(err.message, "unknown field 'items[2].x' (not accepted here)");
  });
});
