import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../../src/app.js';
import { CsrfTokens, deriveCsrfKey } from '../../src/protection/csrf.js';
import { addUser, errorCode, STRONG, startIdentityApp } from '../identity/support.js';

interface Login {
  session: string;
  csrfCookie: string;
  csrfHeader: string;
}

/** A real login through the console route: the session cookie and the CSRF token it hands out. */
async function login(app: App, username: string): Promise<Login> {
  const res = await app.console.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: STRONG } });
  assert.equal(res.statusCode, 200, res.body);
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const value = (name: string) => cookies.find((c) => c.startsWith(`${name}=`))?.split(';')[0]?.slice(name.length + 1) ?? '';
  const csrfCookie = value('__Host-vigil_csrf');
  assert.ok(csrfCookie.length > 10);
  assert.match(cookies.find((c) => c.startsWith('__Host-vigil_csrf=')) ?? '', /Secure; SameSite=Strict/);
  assert.equal(res.headers['x-csrf-token'], csrfCookie);
  // Regression: the CSRF hook once repeated the session's Set-Cookie, and a browser-like client that
  // sent both values back was treated as having no session.
  assert.deepEqual(cookies.map((c) => c.split('=')[0]).sort(), ['__Host-vigil_csrf', '__Host-vigil_session']);
  return { session: value('__Host-vigil_session'), csrfCookie, csrfHeader: csrfCookie };
}

/** A mutating call that passes the CSRF check reaches the route, which refuses the empty body with 400. */
function mutate(app: App, cookie: string, header?: string) {
  return app.console.app.inject({
    method: 'POST',
    url: '/api/v1/auth/password',
    headers: { cookie, 'content-type': 'application/json', ...(header === undefined ? {} : { 'x-csrf-token': header }) },
    payload: '{}',
  });
}

describe('console CSRF', () => {
  it('requires the signed double-submit token on cookie-authenticated mutations: missing, tampered, mismatched, another session’s and expired tokens are refused', async () => {
    const { app, clock } = await startIdentityApp({ console: { listen: { port: 0 }, csrf: { maxAge: '10m' } } });
    await addUser(app, 'olga', 'operator', clock.now());
    const a = await login(app, 'olga');
    const b = await login(app, 'olga');
    const cookieA = (csrf: string) => `__Host-vigil_session=${a.session}; __Host-vigil_csrf=${csrf}`;

    const valid = await mutate(app, cookieA(a.csrfCookie), a.csrfHeader);
    assert.equal(valid.statusCode, 400, 'the valid token passes; the route itself refuses the empty body');
    assert.equal(errorCode(valid.body), 'VGL_CONSOLE_BAD_REQUEST');

    const cases: [string, string, string | undefined, string][] = [
      ['no header', cookieA(a.csrfCookie), undefined, 'VGL_CSRF_MISSING'],
      ['no cookie', `__Host-vigil_session=${a.session}`, a.csrfHeader, 'VGL_CSRF_MISSING'],
      ['header differs from cookie', cookieA(a.csrfCookie), b.csrfHeader, 'VGL_CSRF_INVALID'],
      ['another session’s token', cookieA(b.csrfCookie), b.csrfHeader, 'VGL_CSRF_INVALID'],
      ['tampered signature', cookieA(`${a.csrfCookie.slice(0, -2)}AA`), `${a.csrfHeader.slice(0, -2)}AA`, 'VGL_CSRF_INVALID'],
      ['tampered timestamp', cookieA(`z${a.csrfCookie}`), `z${a.csrfHeader}`, 'VGL_CSRF_INVALID'],
      ['garbage', cookieA('x'), 'x', 'VGL_CSRF_INVALID'],
    ];
    for (const [what, cookie, header, code] of cases) {
      const res = await mutate(app, cookie, header);
      assert.equal(res.statusCode, 403, what);
      assert.equal(errorCode(res.body), code, what);
    }
    // GET needs no token.
    const me = await app.console.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: `__Host-vigil_session=${a.session}` } });
    assert.equal(me.statusCode, 200);

    clock.advance(11 * 60_000);
    const expired = await mutate(app, cookieA(a.csrfCookie), a.csrfHeader);
    assert.equal(expired.statusCode, 403);
    assert.equal(errorCode(expired.body), 'VGL_CSRF_EXPIRED');

    // A fresh token from the endpoint works again.
    const fresh = await app.console.app.inject({ method: 'GET', url: '/api/v1/auth/csrf', headers: { cookie: `__Host-vigil_session=${a.session}` } });
    assert.equal(fresh.statusCode, 200);
    const { token } = JSON.parse(fresh.body) as { token: string };
    assert.equal((await mutate(app, cookieA(token), token)).statusCode, 400);

    let events = await app.store.securityEvents.query({ type: 'csrf.rejected', limit: 50 });
    for (let i = 0; i < 50 && events.length < cases.length + 1; i++) {
      await sleep(20);
      events = await app.store.securityEvents.query({ type: 'csrf.rejected', limit: 50 });
    }
    assert.equal(events.length, cases.length + 1);
    assert.equal(events[0]?.route, 'console:/api/v1/auth/password');
    assert.equal(events[0]?.identity, 'olga');
  });

  it('exempts bearer-token calls, which a browser never sends on its own', async () => {
    const { app, clock } = await startIdentityApp({ console: { listen: { port: 0 } } });
    await addUser(app, 'bea', 'operator', clock.now());
    const issued = await app.console.app.inject({ method: 'POST', url: '/api/v1/auth/token', payload: { username: 'bea', password: STRONG } });
    assert.equal(issued.statusCode, 200, issued.body);
    const { accessToken } = JSON.parse(issued.body) as { accessToken: string };
    const res = await app.console.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' }, payload: '{}' });
    assert.equal(res.statusCode, 400);
    assert.equal(errorCode(res.body), 'VGL_CONSOLE_BAD_REQUEST');
  });

  it('tokens: bound to the session, dated, and signed with the derived key', () => {
    const tokens = new CsrfTokens(deriveCsrfKey(Buffer.alloc(32, 7)), 60_000);
    const token = tokens.issue('session-a', 1_000_000);
    assert.equal(tokens.verify(token, 'session-a', 1_030_000), 'ok');
    assert.equal(tokens.verify(token, 'session-b', 1_030_000), 'invalid');
    assert.equal(tokens.verify(token, 'session-a', 1_070_001), 'expired');
    assert.equal(new CsrfTokens(deriveCsrfKey(Buffer.alloc(32, 8)), 60_000).verify(token, 'session-a', 1_030_000), 'invalid');
  });
});
