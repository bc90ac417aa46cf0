import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generate } from 'otplib';
import { browserSession } from '../support/helpers.js';
import type { BrowserHeaders } from '../support/helpers.js';
import { addUser, errorCode, STRONG, startIdentityApp } from './support.js';

type App = Awaited<ReturnType<typeof startIdentityApp>>['app'];

/** A console login; `browser` is what a browser then sends (session cookie, CSRF cookie and header). */
async function login(app: App, username: string, password: string): Promise<{ status: number; cookie: string; setCookie: string; body: string; browser: BrowserHeaders }> {
  const res = await app.console.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
  const all = res.headers['set-cookie'];
  const setCookie = (Array.isArray(all) ? all : [String(all ?? '')]).find((c) => c.startsWith('__Host-vigil_session=')) ?? '';
  const browser = res.statusCode === 200 ? browserSession(res) : { cookie: '', 'x-csrf-token': '' };
  return { status: res.statusCode, cookie: setCookie.split(';')[0] ?? '', setCookie, body: res.body, browser };
}

const me = (app: App, cookie: string) => app.console.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });

describe('console sessions', () => {
  it('sets an HttpOnly, Secure, SameSite=Strict __Host- cookie with a fresh 256-bit token at every login', async () => {
    const { app, clock } = await startIdentityApp();
    await addUser(app, 'ann', 'operator', clock.now());
    const first = await login(app, 'ann', STRONG);
    assert.equal(first.status, 200, first.body);
    assert.match(first.setCookie, /^__Host-vigil_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; Secure; SameSite=Strict$/);
    const second = await login(app, 'ann', STRONG);
    assert.notEqual(first.cookie, second.cookie);
    const res = await me(app, first.cookie);
    assert.equal(res.statusCode, 200);
    const body = JSON.parse(res.body) as { user: { username: string; passwordHash?: string }; permissions: string[] };
    assert.equal(body.user.username, 'ann');
    assert.equal(body.user.passwordHash, undefined);
    assert.ok(body.permissions.includes('monitors:write'));
  });

  it('ends a session after the idle timeout and after the absolute timeout however active', async () => {
    const { app, clock } = await startIdentityApp({ identity: { sessions: { idleTimeout: '10m', absoluteTimeout: '30m' } } });
    await addUser(app, 'ben', 'viewer', clock.now());
    const idle = await login(app, 'ben', STRONG);
    clock.advance(10 * 60_000);
    assert.equal((await me(app, idle.cookie)).statusCode, 401);
    const active = await login(app, 'ben', STRONG);
    for (let i = 0; i < 5; i++) {
      clock.advance(5 * 60_000);
      assert.equal((await me(app, active.cookie)).statusCode, 200, `minute ${(i + 1) * 5}`);
    }
    clock.advance(5 * 60_000);
    const expired = await me(app, active.cookie);
    assert.equal(expired.statusCode, 401);
    assert.equal(errorCode(expired.body), 'VGL_CONSOLE_UNAUTHENTICATED');
  });

  it('logs out one session, or every session of the user', async () => {
    const { app, clock } = await startIdentityApp();
    await addUser(app, 'cy', 'viewer', clock.now());
    const a = await login(app, 'cy', STRONG);
    const b = await login(app, 'cy', STRONG);
    const c = await login(app, 'cy', STRONG);
    const out = await app.console.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { ...a.browser } });
    assert.match(String(out.headers['set-cookie']), /Max-Age=0/);
    assert.equal((await me(app, a.cookie)).statusCode, 401);
    assert.equal((await me(app, b.cookie)).statusCode, 200);
    const all = await app.console.app.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers: { ...b.browser } });
    assert.equal((JSON.parse(all.body) as { revoked: number }).revoked, 2);
    assert.equal((await me(app, c.cookie)).statusCode, 401);
  });

  it('ends sessions when the role changes or the user is disabled', async () => {
    const { app, clock } = await startIdentityApp();
    await addUser(app, 'dora', 'admin', clock.now());
    const s = await login(app, 'dora', STRONG);
    await app.identity.users.setRole('dora', 'viewer', clock.now());
    assert.equal((await me(app, s.cookie)).statusCode, 401);
    const s2 = await login(app, 'dora', STRONG);
    await app.identity.users.setDisabled('dora', true, clock.now());
    assert.equal((await me(app, s2.cookie)).statusCode, 401);
    assert.equal((await login(app, 'dora', STRONG)).status, 401, 'a disabled user cannot log in');
  });

  it('treats forged, malformed and duplicated session cookies as no session', async () => {
    const { app, clock } = await startIdentityApp();
    await addUser(app, 'eve', 'owner', clock.now());
    const real = await login(app, 'eve', STRONG);
    for (const cookie of ['__Host-vigil_session=' + 'A'.repeat(43), '__Host-vigil_session=../../etc', '__Host-vigil_session=', `${real.cookie}; ${real.cookie}`, 'x'.repeat(10_000)]) {
      const res = await app.console.app.inject({ method: 'GET', url: '/api/v1/users', headers: { cookie } });
      assert.equal(res.statusCode, 401, cookie.slice(0, 40));
    }
  });

  it('creates the bootstrap owner once, whose one-time password must be changed before anything else', async () => {
    const { app, bootstrap, log } = await startIdentityApp();
    assert.ok(bootstrap);
    assert.ok(!log.text.includes(bootstrap.password), 'the one-time password never reaches the log');
    const s = await login(app, bootstrap.username, bootstrap.password);
    assert.equal(s.status, 200);
    assert.equal((JSON.parse(s.body) as { passwordChangeRequired: boolean }).passwordChangeRequired, true);
    const blocked = await app.console.app.inject({ method: 'GET', url: '/api/v1/users', headers: { cookie: s.cookie } });
    assert.equal(errorCode(blocked.body), 'VGL_PASSWORD_CHANGE_REQUIRED');
    const weak = await app.console.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: { ...s.browser }, payload: { currentPassword: bootstrap.password, newPassword: 'password1234' } });
    assert.equal(errorCode(weak.body), 'VGL_PASSWORD_WEAK');
    const changed = await app.console.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: { ...s.browser }, payload: { currentPassword: bootstrap.password, newPassword: STRONG } });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal((await me(app, s.cookie)).statusCode, 401, 'the old session ended with the change');
    const renewed = browserSession(changed);
    // The owner role requires TOTP: until it is set up, enrolment is all this session may do.
    const beforeMfa = await app.console.app.inject({ method: 'GET', url: '/api/v1/users', headers: { ...renewed } });
    assert.equal(errorCode(beforeMfa.body), 'VGL_MFA_ENROLMENT_REQUIRED');
    const enrol = await app.console.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/enrol', headers: { ...renewed } });
    const { secret, otpauthUri } = JSON.parse(enrol.body) as { secret: string; otpauthUri: string };
    assert.match(otpauthUri, /^otpauth:\/\/totp\/Vigil:owner\?.*secret=/);
    const confirm = await app.console.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/confirm', headers: { ...renewed }, payload: { code: await generate({ secret, epoch: Math.floor(Date.UTC(2026, 0, 1) / 1000) }) } });
    assert.equal(confirm.statusCode, 200, confirm.body);
    assert.equal((JSON.parse(confirm.body) as { recoveryCodes: string[] }).recoveryCodes.length, 10);
    const full = browserSession(confirm);
    const users = await app.console.app.inject({ method: 'GET', url: '/api/v1/users', headers: { ...full } });
    assert.equal(users.statusCode, 200);
    assert.ok(!log.text.includes(secret), 'the TOTP secret never reaches the log');
    assert.ok(!log.text.includes(STRONG));
  });
});
