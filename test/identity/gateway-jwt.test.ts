import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { request } from 'undici';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { freePort, startApp, startServer, waitFor } from '../support/helpers.js';
import { errorCode, STRONG } from './support.js';

/**
 * Gateway JWT enforcement against a running App: a real upstream that echoes what it received,
 * and real JWKS servers on loopback serving keys generated here.
 */

const IDP = 'https://idp.example.test/';
const STRICT_IDP = 'https://strict.example.test/';
const AUDIENCE = 'vigil-gateway';

interface Signer {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

async function rsaSigner(kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }, publicPem: await exportSPKI(publicKey) };
}

/** A JWKS endpoint whose key set and availability the test changes; counts every fetch. */
async function jwksServer(keys: JWK[]): Promise<{ url: string; keys: JWK[]; hits: () => number; setDown: (down: boolean) => void }> {
  let hits = 0;
  let down = false;
  const state = { keys };
  const { url } = await startServer((_req, res) => {
    hits++;
    if (down) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  return {
    url: `${url}/jwks.json`,
    get keys() {
      return state.keys;
    },
    set keys(next: JWK[]) {
      state.keys = next;
    },
    hits: () => hits,
    setDown: (value) => (down = value),
  };
}

const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

async function sign(signer: Signer, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  const iat = nowSeconds();
  return new SignJWT({ iss: IDP, aud: AUDIENCE, sub: 'alice', iat, nbf: iat, exp: iat + 300, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: signer.kid, typ: 'JWT', ...header })
    .sign(signer.privateKey);
}

const [corp, corpNext, strict, attacker] = await Promise.all([rsaSigner('corp-1'), rsaSigner('corp-2'), rsaSigner('strict-1'), rsaSigner('corp-1')]);
const corpJwks = await jwksServer([corp.publicJwk]);
const strictJwks = await jwksServer([strict.publicJwk]);
const attackerJwks = await jwksServer([attacker.publicJwk]);
const flaky = await rsaSigner('flaky-1');
const flakyJwks = await jwksServer([flaky.publicJwk]);
const FLAKY_IDP = 'https://flaky.example.test/';
const seen: IncomingHttpHeaders[] = [];
const upstream = await startServer((req, res) => {
  seen.push(req.headers);
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
});
const route = (name: string, extra: Record<string, unknown>) => ({ name, prefix: `/${name}/`, upstream: upstream.url, ...extra });
const gatewayConfig = {
  jwt: {
    issuers: [
      { name: 'corp', issuer: IDP, jwksUrl: corpJwks.url, audience: AUDIENCE, algorithms: ['RS256'], cooldown: '0s', refreshInterval: '200ms', rolesClaim: 'realm.roles' },
      { name: 'strict', issuer: STRICT_IDP, jwksUrl: strictJwks.url, audience: [AUDIENCE, 'other'], algorithms: ['RS256'], cooldown: '1h', refreshInterval: '1h' },
      { name: 'flaky', issuer: FLAKY_IDP, jwksUrl: flakyJwks.url, audience: AUDIENCE, cooldown: '2s', refreshInterval: '1h' },
      { name: 'dead', issuer: 'https://dead.example.test/', jwksUrl: `http://127.0.0.1:${await freePort()}/jwks.json`, audience: AUDIENCE, cooldown: '1h', timeout: '2s' },
    ],
  },
  routes: [
    route('jwt', { auth: 'jwt' }),
    route('corp-only', { auth: 'jwt', jwtIssuers: ['corp'] }),
    route('vigil-only', { auth: 'jwt', jwtIssuers: ['vigil'], roles: ['operator'] }),
    route('either', { auth: 'either', scopes: ['agents:run'] }),
    route('admins', { auth: 'either', roles: ['admin', 'developer'], claims: { org: ['acme'], 'realm.tier': ['gold'] } }),
    route('key', { auth: 'apiKey' }),
    route('fwd', { auth: 'jwt', forwardCredential: true }),
    route('open', { auth: 'none' }),
    route('events', { auth: 'jwt' }),
  ],
};
const { app, gatewayUrl } = await startApp({ gateway: gatewayConfig });
await waitFor(() => corpJwks.hits() > 0 && strictJwks.hits() > 0 && flakyJwks.hits() > 0, 'the first JWKS fetches');
const flakyFetchedAt = Date.now();

const call = async (path: string, headers: Record<string, string> = {}): Promise<{ status: number; code: string | undefined; upstream: IncomingHttpHeaders | undefined }> => {
  const before = seen.length;
  const res = await request(`${gatewayUrl}${path}`, { headers });
  const body = await res.body.text();
  return { status: res.statusCode, code: errorCode(body), upstream: seen.length > before ? seen.at(-1) : undefined };
};
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const rejected = async (path: string, token: string, what: string, code = 'VGL_AUTH_INVALID'): Promise<void> => {
  const res = await call(path, bearer(token));
  assert.equal(res.status, code === 'VGL_AUTH_FORBIDDEN' ? 403 : 401, what);
  assert.equal(res.code, code, what);
  assert.equal(res.upstream, undefined, `${what}: nothing reached the upstream`);
};

describe('gateway JWT and API key enforcement', () => {
  it('admits a valid external JWT and tells the upstream who called, never the raw credential', async () => {
    const token = await sign(corp, { scope: 'agents:run read', realm: { roles: ['admin'], tier: 'gold' }, org: 'acme' });
    const forged = { 'x-vigil-subject': 'root', 'X-Vigil-Roles': 'owner', 'x-vigil-key-id': 'forged', 'x-vigil-issuer': 'vigil', 'x-vigil-auth': 'apiKey', 'x-vigil-scopes': '*' };
    const res = await call('/jwt/run', { ...bearer(token), ...forged });
    assert.equal(res.status, 200);
    const up = res.upstream as IncomingHttpHeaders;
    assert.equal(up['x-vigil-subject'], 'alice');
    assert.equal(up['x-vigil-issuer'], 'corp');
    assert.equal(up['x-vigil-auth'], 'jwt');
    assert.equal(up['x-vigil-roles'], 'admin');
    assert.equal(up['x-vigil-scopes'], 'agents:run read');
    assert.equal(up['x-vigil-key-id'], undefined, 'a forged key id is stripped, none set for a JWT caller');
    assert.equal(up.authorization, undefined, 'the token stays at the gateway');
    // Roles, claims and scopes all met.
    assert.equal((await call('/admins/x', bearer(token))).status, 200);
    assert.equal((await call('/either/x', bearer(token))).status, 200);
    // Forged identity headers are stripped on unauthenticated routes too.
    const open = await call('/open/x', forged);
    assert.equal(open.status, 200);
    for (const name of Object.keys(forged)) assert.equal(open.upstream?.[name.toLowerCase()], undefined, name);
  });

  it('forwards the raw credential only on a route that asks for it', async () => {
    const token = await sign(corp);
    const res = await call('/fwd/x', bearer(token));
    assert.equal(res.status, 200);
    assert.equal(res.upstream?.authorization, `Bearer ${token}`);
  });

  it('refuses every JWT attack class with 401 and nothing forwarded', async () => {
    const valid = await sign(corp);
    const [h, p, s] = valid.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    await rejected('/jwt/x', `${b64({ ...header, alg: 'none' })}.${p}.`, 'alg none');
    await rejected('/jwt/x', `${b64({ alg: 'none' })}.${p}.`, 'alg none without kid');
    // HS256 keyed with the issuer's public key (PEM and JWK forms): RS/HS key confusion.
    for (const secret of [corp.publicPem, JSON.stringify(corp.publicJwk), corp.publicJwk.n as string]) {
      const input = `${b64({ ...header, alg: 'HS256' })}.${p}`;
      await rejected('/jwt/x', `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`, 'HS256 with the public key');
    }
    // Unknown and injected kid, signed with a key the issuer never published.
    for (const kid of ['nope', '../../../../dev/null', "' OR '1'='1", 'corp-1\u0000']) {
      await rejected('/jwt/x', await sign({ ...attacker, kid }), `kid ${JSON.stringify(kid)}`);
    }
    // The attacker's key, with the real kid, offered through jku, jwk and x5u headers.
    const attackerHits = attackerJwks.hits();
    await rejected('/jwt/x', await sign(attacker, {}, { jku: attackerJwks.url }), 'jku header');
    await rejected('/jwt/x', await sign(attacker, {}, { jwk: attacker.publicJwk }), 'embedded jwk header');
    await rejected('/jwt/x', await sign(attacker, {}, { x5u: attackerJwks.url }), 'x5u header');
    assert.equal(attackerJwks.hits(), attackerHits, 'jku/x5u are never fetched');
    // Time: beyond the 30 s clock skew.
    await rejected('/jwt/x', await sign(corp, { exp: nowSeconds() - 120 }), 'expired');
    await rejected('/jwt/x', await sign(corp, { nbf: nowSeconds() + 600 }), 'nbf in the future');
    await rejected('/jwt/x', await sign(corp, { exp: undefined }), 'no exp');
    // Issuer and audience.
    await rejected('/jwt/x', await sign(corp, { iss: 'https://evil.example.test/' }), 'unknown issuer');
    await rejected('/jwt/x', await sign(corp, { iss: STRICT_IDP }), "another trusted issuer's iss, signed with the wrong key");
    await rejected('/jwt/x', await sign(corp, { aud: 'someone-else' }), 'wrong audience');
    await rejected('/corp-only/x', await sign(strict, { iss: STRICT_IDP }), 'an issuer the route does not accept');
    // Tampering.
    await rejected('/jwt/x', `${h}.${b64({ ...payload, sub: 'admin' })}.${s}`, 'tampered payload');
    await rejected('/jwt/x', `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`, 'tampered signature');
    await rejected('/jwt/x', 'not.a.jwt', 'garbage');
    assert.equal((await call('/jwt/x', bearer(valid))).status, 200, 'the untampered token still works');
  });

  it('accepts Vigil access tokens but never its refresh tokens, and authorizes by their role', async () => {
    const user = await app.identity.users.create({ username: 'ops', role: 'operator', password: STRONG, now: Date.now() });
    const pair = await app.identity.tokens.issue(user, Date.now());
    const ok = await call('/vigil-only/x', bearer(pair.accessToken));
    assert.equal(ok.status, 200);
    assert.equal(ok.upstream?.['x-vigil-issuer'], 'vigil');
    assert.equal(ok.upstream?.['x-vigil-subject'], user.id);
    assert.equal(ok.upstream?.['x-vigil-roles'], 'operator');
    await rejected('/vigil-only/x', pair.refreshToken, 'refresh token used as access');
    await rejected('/jwt/x', pair.refreshToken, 'refresh token on an any-issuer route');
    await rejected('/vigil-only/x', await sign(corp), 'an external token on a Vigil-only route');
    const viewer = await app.identity.users.create({ username: 'watcher', role: 'viewer', password: STRONG, now: Date.now() });
    await rejected('/vigil-only/x', (await app.identity.tokens.issue(viewer, Date.now())).accessToken, 'a role the route does not list', 'VGL_AUTH_FORBIDDEN');
  });

  it('either mode takes an API key or a JWT; scopes, roles and claims answer 403 naming what is missing', async () => {
    const created = await app.keys.create({ name: 'svc', scopes: ['agents:run'], expiresAt: null, owner: 'team-search', now: Date.now() });
    const bare = await app.keys.create({ name: 'bare', scopes: [], expiresAt: null, now: Date.now() });
    await app.keyCache.refresh();
    const viaHeader = await call('/either/x', { 'x-api-key': created.plaintext });
    assert.equal(viaHeader.status, 200);
    assert.equal(viaHeader.upstream?.['x-vigil-key-id'], created.key.id);
    assert.equal(viaHeader.upstream?.['x-vigil-subject'], 'team-search');
    assert.equal(viaHeader.upstream?.['x-vigil-auth'], 'apiKey');
    assert.equal(viaHeader.upstream?.['x-api-key'], undefined, 'the key stays at the gateway');
    assert.equal((await call('/either/x', bearer(created.plaintext))).status, 200);
    assert.equal((await call('/either/x', bearer(await sign(corp, { scope: 'agents:run' })))).status, 200);
    assert.equal((await call('/key/x', bearer(bare.plaintext))).upstream?.['x-vigil-subject'], `key:${bare.key.id}`);
    await rejected('/either/x', bare.plaintext, 'a key without the scope', 'VGL_AUTH_FORBIDDEN');
    await rejected('/either/x', await sign(corp, { scope: 'read' }), 'a token without the scope', 'VGL_AUTH_FORBIDDEN');
    await rejected('/either/x', 'vgl_000000000000_00000000000000000000000000000000', 'an unknown key');
    const missing = await call('/either/x');
    assert.equal(missing.status, 401);
    assert.equal(missing.code, 'VGL_AUTH_MISSING');
    // A JWT-only route ignores x-api-key; an API-key route does not take JWTs.
    assert.equal((await call('/jwt/x', { 'x-api-key': created.plaintext })).code, 'VGL_AUTH_MISSING');
    await rejected('/key/x', await sign(corp), 'a JWT on an apiKey route');
    // Roles (one of) and claims (one value per claim, nested by dotted path).
    const good = { realm: { roles: ['developer'], tier: 'gold' }, org: 'acme' };
    assert.equal((await call('/admins/x', bearer(await sign(corp, good)))).status, 200);
    await rejected('/admins/x', await sign(corp, { ...good, realm: { roles: ['viewer'], tier: 'gold' } }), 'wrong role', 'VGL_AUTH_FORBIDDEN');
    await rejected('/admins/x', await sign(corp, { ...good, org: 'globex' }), 'wrong claim value', 'VGL_AUTH_FORBIDDEN');
    await rejected('/admins/x', await sign(corp, { ...good, realm: { roles: ['admin'] } }), 'missing nested claim', 'VGL_AUTH_FORBIDDEN');
    await rejected('/admins/x', created.plaintext, 'a key cannot meet role rules', 'VGL_AUTH_FORBIDDEN');
  });

  it('picks up a rotated issuer key, keeps working while the issuer is down, and refetches unknown kids only after the cooldown', async () => {
    // Rotation at the issuer: a token with the new kid is unknown, so the set is refetched (cooldown 0s).
    corpJwks.keys = [corp.publicJwk, corpNext.publicJwk];
    assert.equal((await call('/jwt/x', bearer(await sign(corpNext)))).status, 200);
    // The issuer goes down: background refreshes fail, the keys already fetched keep verifying.
    corpJwks.setDown(true);
    const hits = corpJwks.hits();
    await waitFor(() => corpJwks.hits() >= hits + 2, 'two failed background refreshes');
    assert.equal((await call('/jwt/x', bearer(await sign(corp)))).status, 200);
    assert.equal((await call('/jwt/x', bearer(await sign(corpNext)))).status, 200);
    corpJwks.setDown(false);
    // Cooldown 1h: a rotated key is not fetched again for forged or new kids within it.
    const strictNext = await rsaSigner('strict-2');
    strictJwks.keys = [strict.publicJwk, strictNext.publicJwk];
    const before = strictJwks.hits();
    for (let i = 0; i < 5; i++) await rejected('/jwt/x', await sign(strictNext, { iss: STRICT_IDP }), 'unknown kid within the cooldown');
    assert.equal(strictJwks.hits(), before, 'no fetch per request');
    assert.equal((await call('/jwt/x', bearer(await sign(strict, { iss: STRICT_IDP, aud: 'other' })))).status, 200, 'known keys still work');
  });

  it('while an issuer is down, unknown kids cost at most one fetch per cooldown, known keys keep working', async () => {
    // Past the 2 s cooldown of the first fetch, so an unknown kid may fetch once.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, flakyFetchedAt + 2500 - Date.now())));
    flakyJwks.setDown(true);
    const before = flakyJwks.hits();
    const stranger = await rsaSigner('flaky-unknown');
    for (let i = 0; i < 6; i++) await rejected('/jwt/x', await sign(stranger, { iss: FLAKY_IDP }), 'unknown kid while the issuer is down');
    assert.ok(flakyJwks.hits() - before < 6, `${flakyJwks.hits() - before} fetches for 6 requests`);
    assert.ok(flakyJwks.hits() - before >= 1, 'the unknown kid was looked up once');
    assert.equal((await call('/jwt/x', bearer(await sign(flaky, { iss: FLAKY_IDP })))).status, 200, 'the held keys still verify');
    flakyJwks.setDown(false);
  });

  it('answers 503 for an issuer whose keys were never fetched, without a fetch per request', async () => {
    const token = await sign(corp, { iss: 'https://dead.example.test/' });
    for (let i = 0; i < 3; i++) {
      const res = await call('/jwt/x', bearer(token));
      assert.equal(res.status, 503);
      assert.equal(res.code, 'VGL_AUTH_ISSUER_UNAVAILABLE');
    }
  });

  it('records gateway auth failures as security events, without the credential, coalescing floods, none for successes', async () => {
    const token = await sign(corp, { exp: nowSeconds() - 3600 });
    await rejected('/events/x', token, 'expired');
    const find = async () => (await app.store.securityEvents.recent(1000, 'auth.gateway_rejected')).filter((e) => e.details.route === 'events');
    let events = await find();
    await waitFor(async () => (events = await find()).length > 0, 'the security event');
    const [expired] = events;
    assert.ok(expired && String(expired.details.reason).includes('ERR_JWT_EXPIRED'), JSON.stringify(events));
    assert.equal(expired.details.code, 'VGL_AUTH_INVALID');
    assert.equal(expired.details.auth, 'jwt');
    assert.equal(expired.sourceIp, '127.0.0.1');
    assert.equal(expired.severity, 'medium');
    assert.ok(expired.correlationId, 'the request ID');
    // A flood of the same rejection from one address is stored once per second, not once per request.
    for (let i = 0; i < 40; i++) await rejected('/events/x', token, 'expired again');
    await new Promise((resolve) => setTimeout(resolve, 100));
    events = await find();
    assert.ok(events.length < 20, `${events.length} events for 41 identical rejections`);
    const missing = await call('/events/x');
    assert.equal(missing.code, 'VGL_AUTH_MISSING');
    await waitFor(async () => (events = await find()).some((e) => e.details.code === 'VGL_AUTH_MISSING' && e.severity === 'low'), 'the missing-credential event');
    const all = await app.store.securityEvents.recent(1000, 'auth.gateway_rejected');
    const forbidden = all.find((e) => e.details.code === 'VGL_AUTH_FORBIDDEN');
    assert.ok(forbidden?.identity, 'a 403 names the authenticated caller');
    assert.ok(!JSON.stringify(all).includes(token.split('.')[2] as string), 'no token in any event');
    // The rejections a coalescing window still holds back are stored first, so only a new event would count.
    await app.identity.events.flush();
    const count = (await find()).length;
    assert.equal((await call('/events/x', bearer(await sign(corp)))).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await find()).length, count, 'no event on success');
  });

  it('applies issuers added by a reload, keeping the fetched keys of unchanged ones', async () => {
    const extra = await rsaSigner('extra-1');
    const extraJwks = await jwksServer([extra.publicJwk]);
    const token = await sign(extra, { iss: 'https://extra.example.test/' }, { typ: 'at+jwt' });
    await rejected('/jwt/x', token, 'an issuer not configured yet');
    const strictHits = strictJwks.hits();
    const issuers = [...gatewayConfig.jwt.issuers, { name: 'extra', issuer: 'https://extra.example.test/', jwksUrl: extraJwks.url, audience: AUDIENCE, tokenType: 'at+jwt' }];
    const config = { gateway: { ...gatewayConfig, jwt: { issuers }, listen: { port: 0 } }, console: { listen: { port: 0 } }, store: { dataDir: app.loaded.config.store.dataDir } };
    await app.reloadRoutes(parseConfig(JSON.stringify(config), 'reload.yaml', {}));
    assert.equal((await call('/jwt/x', bearer(token))).status, 200);
    await rejected('/jwt/x', await sign(extra, { iss: 'https://extra.example.test/' }, { typ: 'JWT' }), 'another token type of the issuer (e.g. an ID token)');
    assert.equal(strictJwks.hits(), strictHits, 'an unchanged issuer is not fetched again');
    assert.equal((await call('/jwt/x', bearer(await sign(strict, { iss: STRICT_IDP })))).status, 200);
  });
});

describe('gateway JWT configuration', () => {
  const problem = (gateway: Record<string, unknown>): string => {
    try {
      parseConfig(JSON.stringify({ gateway }), 'vigil.yaml', {});
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
    throw new Error(`accepted: ${JSON.stringify(gateway)}`);
  };
  const issuer = { name: 'corp', issuer: IDP, jwksUrl: 'https://idp.example.test/jwks.json', audience: AUDIENCE };
  const routes = (extra: Record<string, unknown>) => [{ name: 'r', prefix: '/r/', upstream: 'http://127.0.0.1:9', ...extra }];

  it('refuses symmetric and none algorithms, plain-http JWKS off loopback, unknown and duplicate issuers, with their paths', () => {
    assert.match(problem({ jwt: { issuers: [{ ...issuer, algorithms: ['HS256'] }] } }), /gateway\.jwt\.issuers\[0\]\.algorithms\[0\]/);
    assert.match(problem({ jwt: { issuers: [{ ...issuer, algorithms: ['none'] }] } }), /gateway\.jwt\.issuers\[0\]\.algorithms\[0\]/);
    assert.match(problem({ jwt: { issuers: [{ ...issuer, jwksUrl: 'http://idp.example.test/jwks.json' }] } }), /gateway\.jwt\.issuers\[0\]\.jwksUrl.*https/);
    assert.match(problem({ jwt: { issuers: [issuer, { ...issuer, name: 'other' }] } }), /gateway\.jwt\.issuers\[1\]\.issuer/);
    assert.match(problem({ jwt: { issuers: [{ ...issuer, name: 'vigil' }] } }), /gateway\.jwt\.issuers\[0\]\.name/);
    assert.match(problem({ routes: routes({ auth: 'jwt', jwtIssuers: ['ghost'] }) }), /gateway\.routes\[0\]\.jwtIssuers\[0\].*ghost/);
    assert.match(problem({ jwt: { vigil: false }, routes: routes({ auth: 'either' }) }), /gateway\.routes\[0\]\.auth.*no JWT issuer/);
  });

  it('keeps identity headers to the gateway: a route may not set or remove them, and each needs its own name', () => {
    assert.match(problem({ routes: routes({ headers: { request: { set: { 'X-Vigil-Subject': 'root' } } } }) }), /identity header/);
    assert.match(problem({ identityHeaders: { subject: 'x-user' }, routes: routes({ headers: { request: { remove: ['x-user'] } } }) }), /identity header/);
    assert.match(problem({ identityHeaders: { roles: 'x-vigil-subject' } }), /gateway\.identityHeaders.*own name/);
  });
});
