import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { browserSession } from '../support/helpers.js';
import { addUser, errorCode, STRONG, startIdentityApp } from './support.js';

type Injected = Awaited<ReturnType<Awaited<ReturnType<typeof startIdentityApp>>['app']['console']['app']['inject']>>;

const LOCKOUT = { identity: { lockout: { maxFailures: 5, window: '15m', baseLock: '1m', maxLock: '1h', ipMaxFailures: 8 } } };

async function setup() {
  const ctx = await startIdentityApp(LOCKOUT);
  const login = (username: string, password: string, remoteAddress = '10.0.0.1'): Promise<Injected> =>
    ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, remoteAddress });
  return { ...ctx, login };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return ((sorted[Math.floor((sorted.length - 1) / 2)] as number) + (sorted[Math.floor(sorted.length / 2)] as number)) / 2;
}

function withoutRequestId(body: string): unknown {
  const parsed = JSON.parse(body) as { error: { requestId?: string } };
  delete parsed.error.requestId;
  return parsed;
}

describe('login lockout', () => {
  it('counts wrong current passwords on the password-change route toward the same lock', async () => {
    const { app, clock, login } = await setup();
    await addUser(app, 'pat', 'viewer', clock.now());
    const browser = browserSession(await login('pat', STRONG));
    const change = (currentPassword: string) =>
      app.console.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: { ...browser }, payload: { currentPassword, newPassword: 'amber-glacier-orchestra-42-tide' } });
    for (let i = 0; i < 5; i++) assert.equal(errorCode((await change(`guess-number-${i}`)).body), 'VGL_LOGIN_FAILED');
    const locked = await change(STRONG);
    assert.equal(locked.statusCode, 429);
    assert.equal(errorCode(locked.body), 'VGL_LOGIN_LOCKED');
  });

  it('locks an account after 5 failures, doubles the lock on repeat, and lets the user in once it ends', async () => {
    const { app, clock, login } = await setup();
    await addUser(app, 'alice', 'viewer', clock.now());
    // A new address each time, so that only the account lock is at work here.
    for (let i = 0; i < 5; i++) assert.equal((await login('alice', 'wrong-password-x', `10.1.0.${i}`)).statusCode, 401);
    const locked = await login('alice', STRONG);
    assert.equal(locked.statusCode, 429);
    assert.equal(errorCode(locked.body), 'VGL_LOGIN_LOCKED');
    assert.equal(locked.headers['retry-after'], '60');
    clock.advance(61_000);
    assert.equal((await login('alice', STRONG)).statusCode, 200);
    for (let i = 0; i < 5; i++) await login('alice', 'wrong-password-x', `10.2.0.${i}`);
    const again = await login('alice', STRONG);
    assert.equal(again.statusCode, 429);
    assert.equal(again.headers['retry-after'], '120', 'second lock is twice as long');
    clock.advance(121_000);
    assert.equal((await login('alice', STRONG)).statusCode, 200);
    const events = await app.store.securityEvents.recent(100);
    assert.equal(events.filter((e) => e.type === 'auth.account_locked').length, 2);
    assert.ok(events.filter((e) => e.type === 'auth.login_failed').length >= 12);
  });

  it('forgets failures outside the window', async () => {
    const { app, clock, login } = await setup();
    await addUser(app, 'carol', 'viewer', clock.now());
    for (let i = 0; i < 4; i++) await login('carol', 'wrong-password-x');
    clock.advance(16 * 60_000);
    await login('carol', 'wrong-password-x');
    assert.equal((await login('carol', STRONG)).statusCode, 200);
  });

  it('counts failures per source IP across accounts, locking that IP only', async () => {
    const { app, clock, login } = await setup();
    await addUser(app, 'bob', 'viewer', clock.now());
    for (let i = 0; i < 8; i++) await login(`guess${i % 3}`, 'wrong-password-x', '10.9.9.9');
    const fromAttacker = await login('bob', STRONG, '10.9.9.9');
    assert.equal(fromAttacker.statusCode, 429);
    assert.equal((await login('bob', STRONG, '10.1.1.1')).statusCode, 200, 'other addresses are unaffected');
    assert.equal((await app.store.securityEvents.recent(10, 'auth.ip_locked')).length, 1);
  });

  it('publishes every security event on the bus and counts it by type and severity', async () => {
    const { app, clock, login } = await setup();
    await addUser(app, 'erin', 'viewer', clock.now());
    const seen: string[] = [];
    app.bus.on('security.event', (event) => seen.push(event.type));
    await login('erin', 'wrong-password-x', '10.7.0.1');
    await login('erin', 'wrong-password-x', '10.7.0.2');
    assert.deepEqual(seen, ['auth.login_failed', 'auth.login_failed']);
    const metrics = await app.registry.metrics();
    assert.match(metrics, /vigil_security_events_total\{type="auth\.login_failed",severity="[a-z]+"\} 2/);
  });

  it('answers unknown users exactly like known ones, in comparable time, and locks them alike', async () => {
    const { app, clock, login } = await setup();
    await addUser(app, 'dave', 'viewer', clock.now());
    const known = await login('dave', 'wrong-password-x', '10.0.0.2');
    const unknown = await login('nobody-here', 'wrong-password-x', '10.0.0.3');
    assert.equal(known.statusCode, unknown.statusCode);
    assert.deepEqual(withoutRequestId(known.body), withoutRequestId(unknown.body));
    assert.equal(errorCode(known.body), 'VGL_LOGIN_FAILED');
    // The work each answer costs, as the process's CPU time (argon2 runs on libuv's threads, which
    // it counts): skipping the hash for unknown names would make them cost a small fraction of a
    // known one. Wall time would add whatever else the machine is doing; the two kinds alternate
    // so that any slowdown falls on both alike, and the medians discard the odd outlier.
    const cpuMs = async (username: string, ip: string): Promise<number> => {
      const start = process.cpuUsage();
      await login(username, 'wrong-password-x', ip);
      const used = process.cpuUsage(start);
      return (used.user + used.system) / 1000;
    };
    const knownSamples: number[] = [];
    const unknownSamples: number[] = [];
    for (let i = 0; i < 4; i++) {
      knownSamples.push(await cpuMs('dave', `10.0.1.${i}`));
      unknownSamples.push(await cpuMs('ghost', `10.0.2.${i}`));
    }
    const [knownMs, unknownMs] = [median(knownSamples), median(unknownSamples)];
    const shown = (samples: number[]): string => samples.map((ms) => ms.toFixed(1)).join(', ');
    assert.ok(unknownMs > knownMs / 3 && unknownMs < knownMs * 3, `CPU ms per login: known ${shown(knownSamples)}, unknown ${shown(unknownSamples)}`);
    for (let i = 0; i < 5; i++) await login('ghost2', 'wrong-password-x', `10.0.3.${i}`);
    const lockedUnknown = await login('ghost2', 'wrong-password-x', '10.0.4.1');
    assert.equal(lockedUnknown.statusCode, 429, 'an unknown name locks like a real one');
  });

  it('lets a locked owner back in through the unlock path and records every failure without the password', async () => {
    const { app, clock, login, log } = await setup();
    await addUser(app, 'root', 'owner', clock.now());
    for (let i = 0; i < 5; i++) await login('root', 'Secret-Guess-Number-9');
    assert.equal((await login('root', STRONG)).statusCode, 429);
    await app.identity.throttle.unlock('account:root');
    assert.equal((await login('root', STRONG)).statusCode, 200);
    assert.ok(!log.text.includes('Secret-Guess-Number-9'));
    assert.ok(!log.text.includes(STRONG));
    assert.match(log.text, /auth\.login_failed/);
  });

  it('refuses malformed, oversized and hostile login bodies with a coded 400 and keeps serving', async () => {
    const { app, clock, login } = await setup();
    await addUser(app, 'erin', 'viewer', clock.now());
    const send = (payload: string, type = 'application/json') =>
      app.console.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload, headers: { 'content-type': type } });
    for (const res of [
      await send('{"username":"erin"}'),
      await send('{not json'),
      await send(JSON.stringify({ username: 'erin', password: 'p'.repeat(5000) })),
      await send(JSON.stringify({ username: 'e'.repeat(200), password: 'x' })),
      await send('{"__proto__":{"isAdmin":true},"username":"erin","password":"x"}'),
    ]) {
      assert.equal(res.statusCode, 400, `${res.body} for ${res.raw.req.url}`);
      assert.equal(errorCode(res.body), 'VGL_CONSOLE_BAD_REQUEST');
    }
    // Unknown fields are refused, naming the field, never acted on or silently dropped.
    const extra = await send(`{"username":"erin","password":"${STRONG}","role":"owner"}`);
    assert.equal(extra.statusCode, 400);
    assert.equal(errorCode(extra.body), 'VGL_CONSOLE_BAD_REQUEST');
    assert.match(extra.body, /unknown field 'role'/);
    assert.equal((await app.identity.users.get('erin')).role, 'viewer');
    const big = await send(JSON.stringify({ username: 'erin', password: 'x'.repeat(2_000_000) }));
    assert.equal(big.statusCode, 413);
    assert.equal(errorCode(big.body), 'VGL_CONSOLE_BAD_REQUEST');
    assert.equal((await login('erin', STRONG)).statusCode, 200);
  });
});
