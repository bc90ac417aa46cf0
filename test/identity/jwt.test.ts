import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { JWTPayload } from 'jose';
import { startServer } from '../support/helpers.js';
import { addUser, errorCode, STRONG, startIdentityApp } from './support.js';

type Ctx = Awaited<ReturnType<typeof startIdentityApp>>;
type Pair = { accessToken: string; refreshToken: string; expiresIn: number };

const b64 = (value: object | string): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const parts = (token: string): [Record<string, unknown>, Record<string, unknown>, string] => {
  const [h, p, s] = token.split('.') as [string, string, string];
  return [JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>, JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>, s];
};

async function setup(): Promise<Ctx & { pair: Pair; users: (token: string) => Promise<{ statusCode: number; body: string }> }> {
  const ctx = await startIdentityApp();
  await addUser(ctx.app, 'tok', 'viewer', ctx.clock.now());
  const res = await ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/token', payload: { username: 'tok', password: STRONG } });
  assert.equal(res.statusCode, 200, res.body);
  const users = (token: string) => ctx.app.console.app.inject({ method: 'GET', url: '/api/v1/users', headers: { authorization: `Bearer ${token}` } });
  return { ...ctx, pair: JSON.parse(res.body) as Pair, users };
}

/** Signs claims with Vigil's real current key, so only the claim under test is wrong. */
async function signWithVigilKey(ctx: Ctx, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const key = ctx.app.identity.signingKeys.current();
  const user = await ctx.app.identity.users.get('tok');
  const iat = Math.floor(ctx.clock.now() / 1000);
  return new SignJWT({ token_use: 'access', name: 'tok', ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header })
    .setIssuer(String(claims.iss ?? 'vigil'))
    .setAudience((claims.aud as string) ?? 'vigil-console')
    .setSubject(user.id)
    .setJti('t-1')
    .setIssuedAt(iat)
    .setNotBefore((claims.nbf as number) ?? iat)
    .setExpirationTime((claims.exp as number) ?? iat + 600)
    .sign(key.privateKey);
}

async function assertRejected(ctx: Awaited<ReturnType<typeof setup>>, token: string, what: string): Promise<void> {
  const res = await ctx.users(token);
  assert.equal(res.statusCode, 401, `${what}: ${res.body}`);
  assert.equal(errorCode(res.body), 'VGL_CONSOLE_UNAUTHENTICATED', what);
}

describe('JWT access tokens', () => {
  it('admits a valid access token and publishes only public keys with kid at /.well-known/jwks.json', async () => {
    const ctx = await setup();
    assert.equal((await ctx.users(ctx.pair.accessToken)).statusCode, 200);
    const [header, payload] = parts(ctx.pair.accessToken);
    assert.equal(header.alg, 'EdDSA');
    assert.equal(header.typ, 'at+jwt');
    assert.equal(payload.exp as number - (payload.iat as number), 900, 'access tokens live 15 minutes');
    const jwks = JSON.parse((await ctx.app.console.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body) as { keys: Record<string, unknown>[] };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]?.kid, header.kid);
    assert.equal(jwks.keys[0]?.d, undefined, 'no private part');
    const file = statSync(join(ctx.app.loaded.config.store.dataDir as string, 'jwt-signing-keys.json'));
    assert.equal(file.mode & 0o777, 0o600);
  });

  it('refuses alg none, HS/RS key confusion, unknown and injected kid', async () => {
    const ctx = await setup();
    const [header, payload] = parts(ctx.pair.accessToken);
    await assertRejected(ctx, `${b64({ ...header, alg: 'none' })}.${b64(payload)}.`, 'alg none');
    await assertRejected(ctx, `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(payload)}.`, 'alg none without kid');
    // HS256 keyed with the published public key: the classic confusion attack.
    const publicJwk = ctx.app.identity.signingKeys.jwks().keys[0] as Record<string, string>;
    for (const secret of [publicJwk.x as string, JSON.stringify(publicJwk), Buffer.from(publicJwk.x as string, 'base64url').toString('latin1')]) {
      const input = `${b64({ ...header, alg: 'HS256' })}.${b64(payload)}`;
      await assertRejected(ctx, `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`, 'HS256 with the public key');
    }
    const rs = await generateKeyPair('RS256');
    const rsToken = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: header.kid as string, typ: 'at+jwt' }).sign(rs.privateKey);
    await assertRejected(ctx, rsToken, 'RS256 under the real kid');
    for (const kid of ['nope', '../../../../dev/null', "' OR 1=1 --", '', 'x'.repeat(5000)]) {
      await assertRejected(ctx, await signWithVigilKey(ctx, {}, { kid }), `kid ${kid.slice(0, 20)}`);
    }
  });

  it('never follows jku or trusts an embedded jwk', async () => {
    const ctx = await setup();
    const attacker = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const attackerJwk = { ...(await exportJWK(attacker.publicKey)), kid: 'evil', alg: 'EdDSA' };
    let fetched = 0;
    const jwksServer = await startServer((_req, res) => {
      fetched++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [attackerJwk] }));
    });
    const [, payload] = parts(ctx.pair.accessToken);
    const realKid = ctx.app.identity.signingKeys.current().kid;
    for (const header of [
      { alg: 'EdDSA', typ: 'at+jwt', jwk: attackerJwk },
      { alg: 'EdDSA', typ: 'at+jwt', kid: 'evil', jku: `${jwksServer.url}/jwks.json` },
      { alg: 'EdDSA', typ: 'at+jwt', kid: realKid, jku: `${jwksServer.url}/jwks.json` },
      { alg: 'EdDSA', typ: 'at+jwt', kid: realKid, jwk: attackerJwk },
    ]) {
      const forged = await new SignJWT(payload).setProtectedHeader(header).sign(attacker.privateKey);
      await assertRejected(ctx, forged, JSON.stringify(Object.keys(header)));
    }
    assert.equal(fetched, 0, 'the jku URL was never fetched');
  });

  it('refuses expired, not-yet-valid, foreign-issuer and foreign-audience tokens signed with the real key', async () => {
    const ctx = await setup();
    const now = Math.floor(ctx.clock.now() / 1000);
    assert.equal((await ctx.users(await signWithVigilKey(ctx, {}))).statusCode, 200, 'the forging helper itself makes valid tokens');
    await assertRejected(ctx, await signWithVigilKey(ctx, { exp: now - 1 }), 'expired');
    await assertRejected(ctx, await signWithVigilKey(ctx, { nbf: now + 60 }), 'future nbf');
    await assertRejected(ctx, await signWithVigilKey(ctx, { iss: 'https://evil.example' }), 'wrong iss');
    await assertRejected(ctx, await signWithVigilKey(ctx, { aud: 'another-service' }), 'wrong aud');
    await assertRejected(ctx, await signWithVigilKey(ctx, {}, { typ: 'JWT' }), 'wrong typ');
    ctx.clock.advance(15 * 60_000);
    await assertRejected(ctx, ctx.pair.accessToken, 'the real token after 15 minutes');
  });

  it('refuses tampered payloads and signatures, and a refresh token used as an access token', async () => {
    const ctx = await setup();
    const [h, p, s] = ctx.pair.accessToken.split('.') as [string, string, string];
    const [, payload] = parts(ctx.pair.accessToken);
    await assertRejected(ctx, `${h}.${b64({ ...payload, sub: 'someone-else' })}.${s}`, 'tampered payload');
    const flipped = Buffer.from(s, 'base64url');
    flipped[0] = (flipped[0] as number) ^ 1;
    await assertRejected(ctx, `${h}.${p}.${flipped.toString('base64url')}`, 'tampered signature');
    await assertRejected(ctx, `${h}.${p}`, 'two segments');
    await assertRejected(ctx, 'not-a-jwt', 'garbage');
    await assertRejected(ctx, ctx.pair.refreshToken, 'refresh token as access token');
    const asRefresh = await ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: ctx.pair.accessToken } });
    assert.equal(errorCode(asRefresh.body), 'VGL_TOKEN_INVALID', 'access token as refresh token');
  });
});

describe('refresh tokens', () => {
  it('rotate on use; a replayed refresh token revokes its whole family', async () => {
    const ctx = await setup();
    const refresh = (token: string) => ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: token } });
    const first = await refresh(ctx.pair.refreshToken);
    assert.equal(first.statusCode, 200, first.body);
    const second = JSON.parse(first.body) as Pair;
    assert.notEqual(second.refreshToken, ctx.pair.refreshToken);
    assert.equal((await ctx.users(second.accessToken)).statusCode, 200);
    const replay = await refresh(ctx.pair.refreshToken);
    assert.equal(replay.statusCode, 401);
    assert.equal(errorCode(replay.body), 'VGL_TOKEN_INVALID');
    const afterReuse = await refresh(second.refreshToken);
    assert.equal(afterReuse.statusCode, 401, 'the legitimate descendant is revoked too');
    const events = await ctx.app.store.securityEvents.recent(10, 'auth.refresh_reuse');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.severity, 'high');
  });

  it('expire after 7 days, end with logout-all and with a role change', async () => {
    const ctx = await setup();
    const refresh = (token: string) => ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: token } });
    ctx.clock.advance(7 * 86_400_000);
    assert.equal((await refresh(ctx.pair.refreshToken)).statusCode, 401, 'expired');
    const fresh = JSON.parse((await ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/token', payload: { username: 'tok', password: STRONG } })).body) as Pair;
    await ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers: { authorization: `Bearer ${fresh.accessToken}` } });
    assert.equal((await refresh(fresh.refreshToken)).statusCode, 401, 'logout everywhere');
    const third = JSON.parse((await ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/token', payload: { username: 'tok', password: STRONG } })).body) as Pair;
    await ctx.app.identity.users.setRole('tok', 'operator', ctx.clock.now());
    assert.equal((await refresh(third.refreshToken)).statusCode, 401, 'privilege change');
    const malformed = await ctx.app.console.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: 'x'.repeat(9000) } });
    assert.equal(errorCode(malformed.body), 'VGL_CONSOLE_BAD_REQUEST');
  });

  it('rotate signing keys on schedule, old tokens still verifying until they expire', async () => {
    const ctx = await setup();
    const firstKid = ctx.app.identity.signingKeys.current().kid;
    ctx.clock.advance(30 * 86_400_000);
    assert.equal(await ctx.app.identity.signingKeys.rotateIfDue(ctx.clock.now()), true);
    const secondKid = ctx.app.identity.signingKeys.current().kid;
    assert.notEqual(firstKid, secondKid);
    assert.deepEqual(ctx.app.identity.signingKeys.jwks().keys.map((k) => k.kid), [firstKid, secondKid]);
    const oldToken = await signWithVigilKey(ctx, {});
    assert.equal(parts(oldToken)[0].kid, secondKid);
    ctx.clock.advance(8 * 86_400_000);
    await ctx.app.identity.signingKeys.rotateIfDue(ctx.clock.now());
    assert.deepEqual(ctx.app.identity.signingKeys.jwks().keys.map((k) => k.kid), [secondKid], 'the retired key is gone after its tokens expired');
  });
});
