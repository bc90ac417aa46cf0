import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generate } from 'otplib';
import { browserSession } from '../support/helpers.js';
import type { BrowserHeaders } from '../support/helpers.js';
import { errorCode, STRONG, startIdentityApp } from './support.js';

type Ctx = Awaited<ReturnType<typeof startIdentityApp>>;

/** A user with TOTP switched on through the real API; returns the secret and the recovery codes. */
async function enrolled(ctx: Ctx, username: string, role = 'operator'): Promise<{ secret: string; recoveryCodes: string[] }> {
  await ctx.app.identity.users.create({ username, role, password: STRONG, now: ctx.clock.now() });
  const login = await ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: STRONG } });
  const browser = browserSession(login);
  const { secret } = JSON.parse((await ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/enrol', headers: { ...browser } })).body) as { secret: string };
  const confirm = await ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/confirm', headers: { ...browser }, payload: { code: await code(ctx, secret) } });
  assert.equal(confirm.statusCode, 200, confirm.body);
  ctx.clock.advance(30_000); // the confirming code's step is spent
  return { secret, recoveryCodes: (JSON.parse(confirm.body) as { recoveryCodes: string[] }).recoveryCodes };
}

const code = (ctx: Ctx, secret: string, offsetSeconds = 0): Promise<string> => generate({ secret, epoch: Math.floor(ctx.clock.now() / 1000) + offsetSeconds });

async function passwordStep(ctx: Ctx, username: string): Promise<BrowserHeaders> {
  const res = await ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: STRONG } });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(JSON.parse(res.body), { mfaRequired: true });
  return browserSession(res);
}

const verify = (ctx: Ctx, pending: BrowserHeaders, value: string) => ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', headers: { ...pending }, payload: { code: value } });

describe('TOTP MFA', () => {
  it('needs the second factor after the password; the pending session can do nothing else', async () => {
    const ctx = await startIdentityApp();
    const { secret } = await enrolled(ctx, 'mia');
    const pending = await passwordStep(ctx, 'mia');
    const blocked = await ctx.app.console.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { ...pending } });
    assert.equal(errorCode(blocked.body), 'VGL_MFA_REQUIRED');
    const wrong = await verify(ctx, pending, '000000');
    assert.equal(errorCode(wrong.body), 'VGL_MFA_INVALID');
    const ok = await verify(ctx, pending, await code(ctx, secret));
    assert.equal(ok.statusCode, 200, ok.body);
    const full = browserSession(ok);
    assert.notEqual(full.cookie, pending.cookie, 'a new session token after the second factor');
    assert.equal((await ctx.app.console.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { ...full } })).statusCode, 200);
    assert.equal((await ctx.app.console.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { ...pending } })).statusCode, 401, 'the pending session is gone');
    assert.equal((await ctx.app.store.securityEvents.recent(10, 'auth.mfa_failed')).length, 1);
  });

  it('rejects a replayed code in the same window, accepts ±1 step, refuses ±2', async () => {
    const ctx = await startIdentityApp();
    const { secret } = await enrolled(ctx, 'raj');
    const current = await code(ctx, secret);
    assert.equal((await verify(ctx, await passwordStep(ctx, 'raj'), current)).statusCode, 200);
    const replay = await verify(ctx, await passwordStep(ctx, 'raj'), current);
    assert.equal(replay.statusCode, 401);
    assert.equal(errorCode(replay.body), 'VGL_MFA_INVALID');
    ctx.clock.advance(30_000);
    assert.equal((await verify(ctx, await passwordStep(ctx, 'raj'), await code(ctx, secret, 30))).statusCode, 200, 'next step (clock behind)');
    ctx.clock.advance(90_000);
    assert.equal((await verify(ctx, await passwordStep(ctx, 'raj'), await code(ctx, secret, -30))).statusCode, 200, 'previous step');
    ctx.clock.advance(90_000);
    assert.equal((await verify(ctx, await passwordStep(ctx, 'raj'), await code(ctx, secret, -60))).statusCode, 401, 'two steps old');
    assert.equal((await verify(ctx, await passwordStep(ctx, 'raj'), await code(ctx, secret, 60))).statusCode, 401, 'two steps ahead');
  });

  it('accepts each of the ten recovery codes once', async () => {
    const ctx = await startIdentityApp();
    const { recoveryCodes } = await enrolled(ctx, 'rosa');
    assert.equal(recoveryCodes.length, 10);
    assert.equal(new Set(recoveryCodes).size, 10);
    for (const c of recoveryCodes) assert.match(c, /^[a-z2-7]{5}-[a-z2-7]{5}$/);
    const first = await verify(ctx, await passwordStep(ctx, 'rosa'), recoveryCodes[0] as string);
    assert.equal(first.statusCode, 200);
    assert.equal((JSON.parse(first.body) as { recoveryCodesLeft: number }).recoveryCodesLeft, 9);
    const again = await verify(ctx, await passwordStep(ctx, 'rosa'), recoveryCodes[0] as string);
    assert.equal(errorCode(again.body), 'VGL_MFA_INVALID', 'a spent recovery code');
    assert.equal((await verify(ctx, await passwordStep(ctx, 'rosa'), (recoveryCodes[1] as string).toUpperCase().replace('-', ' '))).statusCode, 200, 'case and separator do not matter');
    assert.equal((await verify(ctx, await passwordStep(ctx, 'rosa'), 'aaaaa-aaaaa')).statusCode, 401);
  });

  it('locks the account after repeated wrong codes, like wrong passwords', async () => {
    const ctx = await startIdentityApp();
    await enrolled(ctx, 'lou');
    for (let i = 0; i < 5; i++) assert.equal((await verify(ctx, await passwordStep(ctx, 'lou'), `12345${i}`)).statusCode, 401);
    const locked = await ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'lou', password: STRONG } });
    assert.equal(locked.statusCode, 429);
  });

  it('requires the code at the token endpoint, and MFA enrolment for the configured roles', async () => {
    const ctx = await startIdentityApp();
    const { secret } = await enrolled(ctx, 'tia');
    const token = (payload: object) => ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/token', payload });
    assert.equal(errorCode((await token({ username: 'tia', password: STRONG })).body), 'VGL_MFA_REQUIRED');
    assert.equal(errorCode((await token({ username: 'tia', password: STRONG, code: '999999' })).body), 'VGL_MFA_INVALID');
    assert.equal((await token({ username: 'tia', password: STRONG, code: await code(ctx, secret) })).statusCode, 200);
    await ctx.app.identity.users.create({ username: 'adm', role: 'admin', password: STRONG, now: ctx.clock.now() });
    const login = await ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'adm', password: STRONG } });
    const browser = browserSession(login);
    const refused = await ctx.app.console.app.inject({ method: 'GET', url: '/api/v1/users', headers: { ...browser } });
    assert.equal(refused.statusCode, 403);
    assert.equal(errorCode(refused.body), 'VGL_MFA_ENROLMENT_REQUIRED');
    const bad = await ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/confirm', headers: { ...browser }, payload: { code: 'x'.repeat(100) } });
    assert.equal(errorCode(bad.body), 'VGL_CONSOLE_BAD_REQUEST');
  });
});
