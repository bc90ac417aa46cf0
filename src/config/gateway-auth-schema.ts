import { z } from 'zod';
import { duration, httpUrl } from './schema-parts.js';
import { RESERVED_REQUEST, headerName } from './gateway-headers-schema.js';

/** Gateway authentication: trusted JWT issuers, route claims, and the identity headers sent upstream. */

/** Asymmetric JWS algorithms only: `none` and HMAC (`HS*`) can never be allowed, so no key confusion is possible. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** The issuer name that stands for Vigil's own access tokens (`identity.tokens`). */
export const VIGIL_ISSUER = 'vigil';

const ISSUER_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const issuerName = z.string().regex(ISSUER_NAME, "an issuer name is 1-63 characters of a-z, 0-9, '_', '.', '-', starting with a letter or digit");
/** A claim path: a claim name, or names joined by `.` for nested objects (`realm_access.roles`). */
const claimPath = z.string().regex(/^[A-Za-z0-9_:-]{1,64}(\.[A-Za-z0-9_:-]{1,64}){0,4}$/, 'a claim name, or up to five names joined by `.` for nested claims');

/** http:// is allowed only to loopback (a local IdP or test); anything else must be https://. */
const jwksUrl = httpUrl.refine((value) => {
  const url = new URL(value);
  return url.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}, 'must be https:// (http:// only to a loopback address)');

const externalIssuer = z.strictObject({
  name: issuerName.refine((value) => value !== VIGIL_ISSUER, `'${VIGIL_ISSUER}' names Vigil's own tokens`).describe('Referenced by routes in `jwtIssuers`; shown in `x-vigil-issuer` and security events.'),
  issuer: z.string().min(1).max(500).describe('The exact `iss` value of its tokens; a token is matched to its issuer by this value.'),
  jwksUrl: jwksUrl.describe("URL of the issuer's JWK set (https://, or http:// to loopback). Fetched at start and every `refreshInterval`, and when a token names an unknown `kid` (at most once per `cooldown`); never per request."),
  audience: z.union([z.string().min(1).max(500), z.array(z.string().min(1).max(500)).min(1).max(20)]).describe('Accepted `aud` value(s): the token must name one of them.'),
  algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1).default(['RS256', 'ES256']).describe('Accepted signing algorithms (asymmetric only; `none` and `HS*` are never accepted).'),
  tokenType: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('Required `typ` header, e.g. `at+jwt` (RFC 9068), so ID tokens or other tokens of the issuer are not taken for access tokens. Unset: any `typ`.'),
  clockSkew: duration.prefault('30s').describe('Leeway for `exp`, `nbf` and `iat` against clock drift between the issuer and Vigil.'),
  refreshInterval: duration.prefault('10m').describe('How often the key set is re-fetched in the background; if the issuer is down, the keys already fetched keep working.'),
  cooldown: duration.prefault('30s').describe('Least time between two fetches caused by unknown `kid`s (or after a failed first fetch), so forged tokens cannot make Vigil hammer the issuer.'),
  timeout: duration.prefault('5s').describe('Longest wait for one key set fetch.'),
  rolesClaim: claimPath.default('roles').describe('Claim holding the caller\'s roles (string or list; `.` for nested, e.g. `realm_access.roles`): checked by a route\'s `roles`, sent upstream in the roles header.'),
  scopeClaim: claimPath.default('scope').describe('Claim holding the caller\'s scopes (space-separated string or list, e.g. `scope` or `scp`): checked by a route\'s `scopes`.'),
});

export const gatewayJwt = z
  .strictObject({
    vigil: z.boolean().default(true).describe(`Accept Vigil's own access tokens (issuer \`${VIGIL_ISSUER}\`: \`identity.tokens\` issuer and audience, signed by Vigil's keys). Refresh tokens are never accepted.`),
    vigilClockSkew: duration.prefault('0s').describe("Leeway for `exp` and `nbf` of Vigil's own tokens (same clock, so none by default)."),
    issuers: z.array(externalIssuer).max(50).default([]).describe('External issuers (OIDC providers, other services) whose JWTs routes may accept.'),
  })
  .prefault({})
  .describe('Who may issue the JWTs that `auth: jwt` and `auth: either` routes accept.');

const identityHeader = (fallback: string, what: string) => headerName(RESERVED_REQUEST).default(fallback).describe(`Upstream header (default \`${fallback}\`) with ${what}.`);

export const identityHeaders = z
  .strictObject({
    subject: identityHeader('x-vigil-subject', "the caller: the JWT's `sub`, or the API key's owner label (`key:<id>` when it has none)"),
    keyId: identityHeader('x-vigil-key-id', 'the API key ID (key callers only)'),
    issuer: identityHeader('x-vigil-issuer', 'the name of the JWT issuer (JWT callers only)'),
    scopes: identityHeader('x-vigil-scopes', "the caller's scopes, space-separated"),
    roles: identityHeader('x-vigil-roles', "the caller's roles, comma-separated (JWT callers only)"),
    method: identityHeader('x-vigil-auth', 'how the caller authenticated: `apiKey` or `jwt`'),
  })
  .prefault({})
  .describe('Upstream headers naming the authenticated caller. Incoming headers with these names are always removed, on every route, so a caller cannot forge them.');

export const routeClaims = z
  .record(claimPath, z.array(z.union([z.string().min(1).max(500), z.number(), z.boolean()])).min(1).max(100))
  .default({})
  .describe('JWT callers: each listed claim must hold one of the listed values (a list claim: contain one). E.g. `{ role: [admin, developer] }`. Key callers cannot satisfy it and get 403.');

/** Routes may only name issuers that exist; issuer names and `iss` values are unique. */
export function checkJwtIssuers(
  jwt: { vigil: boolean; issuers: readonly { name: string; issuer: string }[] },
  vigilIssuer: string,
  routes: readonly { auth: string; jwtIssuers: readonly string[] }[],
  ctx: z.RefinementCtx,
): void {
  const names = new Set<string>(jwt.vigil ? [VIGIL_ISSUER] : []);
  const values = new Set<string>(jwt.vigil ? [vigilIssuer] : []);
  jwt.issuers.forEach((issuer, i) => {
    const path = ['gateway', 'jwt', 'issuers', i];
    if (names.has(issuer.name)) ctx.addIssue({ code: 'custom', path: [...path, 'name'], message: `duplicate issuer name '${issuer.name}'` });
    if (values.has(issuer.issuer)) ctx.addIssue({ code: 'custom', path: [...path, 'issuer'], message: `another issuer (or Vigil, identity.tokens.issuer) already uses iss '${issuer.issuer}'` });
    names.add(issuer.name);
    values.add(issuer.issuer);
  });
  routes.forEach((route, i) => {
    const path = ['gateway', 'routes', i];
    route.jwtIssuers.forEach((name, j) => {
      if (!names.has(name)) ctx.addIssue({ code: 'custom', path: [...path, 'jwtIssuers', j], message: `no issuer named '${name}' (gateway.jwt.issuers, or '${VIGIL_ISSUER}' when gateway.jwt.vigil is on)` });
    });
    if ((route.auth === 'jwt' || route.auth === 'either') && names.size === 0) {
      ctx.addIssue({ code: 'custom', path: [...path, 'auth'], message: 'no JWT issuer is trusted: add gateway.jwt.issuers or turn gateway.jwt.vigil on' });
    }
  });
}

/** A route may not set or remove an identity header: the gateway owns them. */
export function checkIdentityHeaderRules(
  names: Readonly<Record<string, string>>,
  routes: readonly { headers: { request: { set: Readonly<Record<string, string>>; remove: readonly string[] } } }[],
  ctx: z.RefinementCtx,
): void {
  const owned = new Set(Object.values(names));
  if (owned.size !== Object.keys(names).length) ctx.addIssue({ code: 'custom', path: ['gateway', 'identityHeaders'], message: 'each identity header needs its own name' });
  routes.forEach((route, i) => {
    const { set, remove } = route.headers.request;
    for (const name of Object.keys(set)) {
      if (owned.has(name)) ctx.addIssue({ code: 'custom', path: ['gateway', 'routes', i, 'headers', 'request', 'set', name], message: 'is an identity header (gateway.identityHeaders), set by the gateway' });
    }
    remove.forEach((name, j) => {
      if (owned.has(name)) ctx.addIssue({ code: 'custom', path: ['gateway', 'routes', i, 'headers', 'request', 'remove', j], message: 'is an identity header (gateway.identityHeaders), always removed from the incoming request' });
    });
  });
}
