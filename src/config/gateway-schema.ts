import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { PII_KINDS } from '../pii/detectors.js';
import { duration, httpUrl } from './schema-parts.js';
import { conditions as checkConditions } from './check-schemas.js';

/** Gateway parts of the config schema: limits, trusted proxies and per-route header rules. */

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
/** Header values may not carry CR, LF or NUL (response splitting) and stay within one line. */
const HEADER_VALUE = /^[^\r\n\0]{0,8192}$/;

/** Headers Vigil owns on the way upstream; a route may not set or remove them. */
const RESERVED_REQUEST = new Set([
  'host', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'content-length', 'x-request-id', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded',
]);
const RESERVED_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'x-request-id', 'upgrade', 'trailer']);

const headerName = (reserved: ReadonlySet<string>) =>
  z
    .string()
    .regex(HEADER_NAME, 'must be an HTTP header name (token characters only)')
    .transform((value) => value.toLowerCase())
    .refine((value) => !reserved.has(value), { message: 'is managed by the gateway and cannot be changed by a route' });

const headerRules = (reserved: ReadonlySet<string>, what: string) =>
  z
    .strictObject({
      set: z
        .record(headerName(reserved), z.string().regex(HEADER_VALUE, 'must be one line without CR, LF or NUL, at most 8192 characters'))
        .default({})
        .describe(`Headers set on the ${what}, replacing any the other side sent. Values may use \${ENV} (e.g. an upstream API key), so callers never hold it.`),
      remove: z.array(headerName(reserved)).default([]).describe(`Header names removed from the ${what}.`),
    })
    .prefault({});

export const routeHeaders = z
  .strictObject({
    request: headerRules(RESERVED_REQUEST, 'request sent upstream'),
    response: headerRules(RESERVED_RESPONSE, 'response sent to the client'),
  })
  .prefault({})
  .describe('Header changes on the way up and down.');

export const routeTimeouts = z
  .strictObject({
    connect: duration.prefault('5s').describe('Time to open the upstream connection.'),
    response: duration.prefault('60s').describe('Time for the upstream to send its response headers (time to first byte).'),
    idle: duration.prefault('60s').describe('Longest pause between two body chunks from the upstream.'),
    total: duration
      .prefault('0s')
      .describe('Longest whole exchange, streams included; `0s` means none. Checked at the response headers and at every body chunk, so a stalled stream is ended by `idle` at the latest.'),
  })
  .prefault({});

const cidr = z.string().refine((value) => parseCidr(value) !== undefined, 'must be an IP address or CIDR, e.g. 10.0.0.0/8 or fd00::/8');

/** `address[/prefix]` split and checked; undefined when malformed. */
export function parseCidr(value: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', bits, extra] = value.split('/');
  if (extra !== undefined) return undefined;
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (!family) return undefined;
  const max = family === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, family };
}

export const gatewayLimits = z
  .strictObject({
    maxBodyBytes: z
      .number()
      .int()
      .min(0)
      .default(10 * 1024 * 1024)
      .describe('Largest request body (bytes) a route accepts unless it sets its own; 413 beyond. Counted as the body streams, so chunked bodies are limited too. 0 means no limit.'),
    maxUrlLength: z.number().int().min(16).max(65_536).default(8192).describe('Longest request target (path and query) accepted; 414 beyond.'),
    maxConnections: z.number().int().min(0).default(0).describe('Most client connections held open at once; further ones are closed at accept. 0 means no limit.'),
    headersTimeout: duration.prefault('10s').describe('Time a client has to send the complete request headers (against slowloris); 408 after.'),
    requestTimeout: duration
      .prefault('5m')
      .describe('Time a client has to send the complete request, body included (against slow uploads); 408 after. `0s` means none.'),
    keepAliveTimeout: duration.prefault('5s').describe('How long an idle client connection is kept open for its next request.'),
  })
  .prefault({})
  .describe('Limits on what clients may send.');

export const trustedProxies = z
  .array(cidr)
  .max(1000)
  .default([])
  .describe('Addresses or CIDRs of proxies in front of Vigil whose forwarding header (the one `clientAddressHeader` names) is kept and appended to; from anyone else all forwarding headers are replaced (docs/gateway.md#forwarding).');

export const clientAddressHeader = z
  .enum(['x-forwarded-for', 'forwarded'])
  .default('x-forwarded-for')
  .describe('The one header the client address is read from when the peer is a trusted proxy: `x-forwarded-for`, or `forwarded` (RFC 7239 `for=`). The other is never read for it, and upstream it is rebuilt from this one rather than passed on (docs/protection.md).');

const upstreamTarget = z.strictObject({
  url: httpUrl.describe('Base URL of this target; its path is prepended to every forwarded path.'),
  weight: z.number().int().min(1).max(1000).default(1).describe('Share of requests relative to the other targets (round-robin and least-in-flight).'),
  fallback: z.boolean().default(false).describe('Used only while no non-fallback target is available (all ejected or open).'),
});

export const routeUpstreams = z
  .strictObject({
    targets: z.array(upstreamTarget).max(100).default([]).describe('Several upstream targets instead of one `upstream`.'),
    balance: z
      .enum(['round-robin', 'least-in-flight', 'peak-ewma'])
      .default('round-robin')
      .describe('`round-robin` (smooth, weighted), `least-in-flight` (fewest open requests per weight) or `peak-ewma` (power of two choices on latency × load).'),
    breaker: z
      .strictObject({
        failures: z.number().int().min(1).max(1000).default(5).describe('Consecutive failures (connect errors, resets, timeouts, 502/503/504) that eject a target (open its breaker).'),
        openFor: duration.prefault('10s').describe('How long the first ejection lasts; then one probe request is let through (half-open).'),
        maxOpenFor: duration.prefault('5m').describe('Each repeated ejection doubles `openFor`, up to this.'),
      })
      .prefault({}),
    retry: z
      .strictObject({
        attempts: z.number().int().min(0).max(10).default(2).describe('Retries after the first try (0: none). Only before any response byte reached the client.'),
        backoff: duration.prefault('25ms').describe('Base delay before a retry; doubles per retry, with full jitter.'),
        maxBackoff: duration.prefault('1s').describe('Longest delay before a retry.'),
        budget: z.number().min(0).max(1).default(0.2).describe('Retries allowed as a share of the route’s requests over the last 10-20 s (at least 10 per window), against retry storms.'),
        nonIdempotent: z
          .boolean()
          .default(false)
          .describe('Also retry POST/PATCH (and requests with a body) after the request was sent. Off: those are retried only when the connection failed before any byte was sent.'),
      })
      .prefault({}),
  })
  .prefault({})
  .describe('Several targets, balancing, breaker (outlier ejection) and retries.');

/** A route needs exactly one of `upstream` and `upstreams.targets`. */
export function checkRouteUpstreams(
  route: { upstream?: string | undefined; upstreams: { targets: readonly { fallback: boolean }[] } },
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  const targets = route.upstreams.targets;
  if (route.upstream === undefined && targets.length === 0) {
    ctx.addIssue({ code: 'custom', path: [...path, 'upstream'], message: 'set `upstream` or `upstreams.targets`' });
  } else if (route.upstream !== undefined && targets.length > 0) {
    ctx.addIssue({ code: 'custom', path: [...path, 'upstreams', 'targets'], message: 'set either `upstream` or `upstreams.targets`, not both' });
  } else if (targets.length > 0 && targets.every((t) => t.fallback)) {
    ctx.addIssue({ code: 'custom', path: [...path, 'upstreams', 'targets'], message: 'at least one target must not be a fallback' });
  }
}

const filePath = z.string().min(1).max(4096);

export const routeUpstreamTls = z
  .strictObject({
    ca: filePath.optional().describe('PEM file of the CA(s) that signed the upstream certificates, instead of the system CAs.'),
    cert: filePath.optional().describe('PEM client certificate presented to the upstream (mutual TLS); needs `key`.'),
    key: filePath.optional().describe('PEM private key of `cert`; must not be readable by group or others (mode 0600).'),
    serverName: z.string().min(1).max(253).optional().describe('Name checked against the upstream certificate (SNI), when it differs from the URL host.'),
  })
  .optional()
  .describe('TLS to `https://` targets: custom CA and client certificate. Files are read at start and on reload.');

/** `cert` and `key` come together. */
export function checkRouteTls(route: { upstreamTls?: { cert?: string | undefined; key?: string | undefined } | undefined }, path: (string | number)[], ctx: z.RefinementCtx): void {
  const tls = route.upstreamTls;
  if (tls && (tls.cert === undefined) !== (tls.key === undefined)) {
    ctx.addIssue({ code: 'custom', path: [...path, 'upstreamTls', tls.cert === undefined ? 'cert' : 'key'], message: 'set both `cert` and `key` for a client certificate' });
  }
}

export const listenerTls = z
  .strictObject({
    cert: filePath.describe('PEM certificate (chain) of the gateway listener.'),
    key: filePath.describe('PEM private key of `cert`; must not be readable by group or others (mode 0600).'),
  })
  .optional()
  .describe('Serve HTTPS instead of HTTP. Both files are watched and swapped in without a restart when they change.');

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

const piiDirection = (body: string, blocked: string) =>
  z
    .strictObject({
      action: z
        .enum(['mask', 'tokenize', 'block'])
        .describe(`\`mask\` replaces each value in the ${body} with its kind (\`[EMAIL]\`); \`tokenize\` with a deterministic keyed token (\`tok_email_…\`, equal values give equal tokens); \`block\` ${blocked}.`),
      kinds: z
        .array(z.enum(PII_KINDS))
        .min(1)
        .default(['email', 'card', 'iban', 'national_id', 'api_key', 'bearer'])
        .describe('PII kinds acted on; `phone` and `ip` are left out by default (they match many numbers and addresses in ordinary traffic).'),
    })
    .optional();

export const routePii = z
  .strictObject({
    request: piiDirection('request body sent upstream', 'refuses the request with 422 `VGL_GATEWAY_PII_BLOCKED` naming the kinds found'),
    response: piiDirection(
      'response body sent to the client',
      'answers 502 `VGL_GATEWAY_PII_RESPONSE_BLOCKED` if no byte was sent yet, else cuts the connection',
    ),
  })
  .optional()
  .describe('PII policy for text bodies as they stream (docs/vault.md). Binary content types pass untouched; a compressed request body is refused (415), and responses are requested uncompressed.');

/** A host name (or IPv4 address) of a route, or `*.` and a domain for any subdomain; no port. */
const HOST = /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const routeHost = z
  .string()
  .max(253)
  .transform((value) => value.toLowerCase().replace(/\.$/, ''))
  .refine((value) => HOST.test(value) || /^\[[0-9a-f:.]+\]$/.test(value), 'must be a host name without port, `*.example.com`, an IPv4 address or a bracketed IPv6 address');

/** A path as the gateway sees it: starts with `/`, no spaces, `?` or `#`. */
const routePath = z.string().max(2048).regex(/^\/[^\s?#]*$/, "must start with '/' and contain no spaces, '?' or '#'");

/**
 * Pattern segments: `:name` is one non-empty segment, `*name` (last only) the rest of the path;
 * anything else is literal. Returns the capture names, or a message saying what is wrong.
 */
export function patternCaptures(pattern: string): { names: string[] } | { error: string } {
  const segments = pattern.slice(1).split('/');
  const names: string[] = [];
  for (const [i, segment] of segments.entries()) {
    const kind = segment[0];
    if (kind !== ':' && kind !== '*') {
      if (segment.includes('*')) return { error: `segment '${segment}': '*' is only allowed as '*name' for the rest of the path` };
      continue;
    }
    const captured = segment.slice(1);
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,31}$/.test(captured)) return { error: `segment '${segment}': a capture is ':name' or '*name' (letters, digits, '_')` };
    if (kind === '*' && i !== segments.length - 1) return { error: `'${segment}' must be the last segment` };
    if (names.includes(captured)) return { error: `capture '${captured}' appears twice` };
    names.push(captured);
  }
  return { names };
}

const HTTP_METHOD = /^[A-Z][A-Z-]{0,19}$/;

export const routeMatch = {
  hosts: z
    .array(routeHost)
    .max(100)
    .default([])
    .describe('Host names this route serves (`api.example.com`, or `*.example.com` for any subdomain), compared case-insensitively without the port; empty: any host.'),
  prefix: routePath.optional().describe('Path prefix the route matches (`/agents/` also matches `/agents`); the longest matching prefix wins. One of `prefix`, `path`, `pattern`.'),
  path: routePath.optional().describe('Exact path the route matches (the query is not part of it). One of `prefix`, `path`, `pattern`.'),
  pattern: routePath
    .optional()
    .describe('Path pattern: `:name` matches one segment, a last `*name` the rest of the path, e.g. `/v1/models/:id/chat`, `/files/*rest`. One of `prefix`, `path`, `pattern`.'),
  methods: z
    .array(z.string().transform((value) => value.toUpperCase()).refine((value) => HTTP_METHOD.test(value), 'must be an HTTP method such as GET or POST'))
    .max(20)
    .default([])
    .describe('Methods this route serves (`GET` also serves `HEAD`); empty: any method. Another method on a matching path gets 405 when no other route takes it.'),
  stripPrefix: z.boolean().default(false).describe('Remove the prefix before forwarding (`/agents/run` → `/run`); same as `rewrite.prefix: /`. `prefix` routes only.'),
  rewrite: z
    .strictObject({
      prefix: routePath.optional().describe('Replaces the matched `prefix` (`prefix: /old/` with `rewrite.prefix: /new` sends `/old/x` as `/new/x`). `prefix` routes only.'),
      path: routePath
        .optional()
        .describe('Upstream path built from the `pattern` captures (`/v2/:id/completions`, `/store/*rest`) or a fixed path for a `path` route. The query is kept.'),
    })
    .optional()
    .describe('Changes the path sent upstream (the target URL path is still put in front).'),
};

/** Exactly one of prefix/path/pattern; rewrites that fit the kind and name known captures. */
export function checkRouteMatch(
  route: { prefix?: string | undefined; path?: string | undefined; pattern?: string | undefined; stripPrefix: boolean; rewrite?: { prefix?: string | undefined; path?: string | undefined } | undefined },
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  const kinds = (['prefix', 'path', 'pattern'] as const).filter((k) => route[k] !== undefined);
  if (kinds.length !== 1) {
    ctx.addIssue({ code: 'custom', path: [...path, kinds[1] ?? 'prefix'], message: 'set exactly one of `prefix`, `path` and `pattern`' });
    return;
  }
  const kind = kinds[0];
  const { rewrite } = route;
  if (kind !== 'prefix' && route.stripPrefix) ctx.addIssue({ code: 'custom', path: [...path, 'stripPrefix'], message: '`stripPrefix` needs a `prefix` route' });
  if (rewrite?.prefix !== undefined && (kind !== 'prefix' || route.stripPrefix)) {
    ctx.addIssue({ code: 'custom', path: [...path, 'rewrite', 'prefix'], message: '`rewrite.prefix` needs a `prefix` route without `stripPrefix`' });
  }
  if (rewrite?.path !== undefined && kind === 'prefix') {
    ctx.addIssue({ code: 'custom', path: [...path, 'rewrite', 'path'], message: '`rewrite.path` needs a `path` or `pattern` route (use `rewrite.prefix` on a `prefix` route)' });
  }
  let names: string[] = [];
  if (kind === 'pattern') {
    const parsed = patternCaptures(route.pattern as string);
    if ('error' in parsed) {
      ctx.addIssue({ code: 'custom', path: [...path, 'pattern'], message: parsed.error });
      return;
    }
    names = parsed.names;
  }
  if (rewrite?.path !== undefined && kind !== 'prefix') {
    const template = patternCaptures(rewrite.path);
    if ('error' in template) ctx.addIssue({ code: 'custom', path: [...path, 'rewrite', 'path'], message: template.error });
    else {
      const unknown = template.names.find((n) => !names.includes(n));
      if (unknown !== undefined) ctx.addIssue({ code: 'custom', path: [...path, 'rewrite', 'path'], message: `'${unknown}' is not a capture of the route's pattern` });
    }
  }
}

type MatchFields = { name: string; hosts: readonly string[]; prefix?: string | undefined; path?: string | undefined; pattern?: string | undefined; methods: readonly string[] };

/** A route that takes exactly the same requests as an earlier one could never match: refused. */
export function checkShadowedRoutes(routes: readonly MatchFields[], ctx: z.RefinementCtx): void {
  const seen = new Map<string, string>();
  routes.forEach((route, i) => {
    const key = JSON.stringify([[...route.hosts].sort(), route.prefix, route.path, route.pattern, [...route.methods].sort()]);
    const earlier = seen.get(key);
    const field = route.prefix !== undefined ? 'prefix' : route.path !== undefined ? 'path' : 'pattern';
    if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: ['gateway', 'routes', i, field], message: `same hosts, ${field} and methods as route '${earlier}', so it could never match` });
    else seen.set(key, route.name);
  });
}

export const routeHealthCheck = z
  .strictObject({
    path: routePath.describe("Path requested on every target (after the target URL's own path), e.g. `/health`."),
    method: z.enum(['GET', 'HEAD']).default('GET').describe('Request method of the probe.'),
    headers: z
      .record(z.string().regex(HEADER_NAME, 'must be an HTTP header name'), z.string().regex(HEADER_VALUE, 'must be one line without CR, LF or NUL, at most 8192 characters'))
      .default({})
      .describe('Extra probe headers, e.g. a token from `${ENV}`.'),
    interval: duration.prefault('10s').describe('Time between two probes of a target.'),
    timeout: duration.prefault('2s').describe('A probe without a complete answer within this counts as failed; at most `interval`.'),
    expectStatus: z.array(z.number().int().min(100).max(599)).min(1).default([200]).describe('Statuses that count as a pass.'),
    conditions: checkConditions(['STATUS', 'BODY', 'RESPONSE_TIME']),
    healthyThreshold: z.number().int().min(1).max(100).default(2).describe('Consecutive passes that put an unhealthy target back into balancing.'),
    unhealthyThreshold: z.number().int().min(1).max(100).default(3).describe('Consecutive failures that take a target out of balancing.'),
  })
  .optional()
  .describe("Active health checks: each target is probed with the monitor's HTTP check; an unhealthy target gets no requests until it passes again. Off when absent.");

/** A probe must end before the next one starts. */
export function checkRouteHealth(route: { healthCheck?: { interval: number; timeout: number } | undefined }, path: (string | number)[], ctx: z.RefinementCtx): void {
  const check = route.healthCheck;
  if (check && (check.timeout > check.interval || check.interval < 100)) {
    ctx.addIssue({ code: 'custom', path: [...path, 'healthCheck', check.interval < 100 ? 'interval' : 'timeout'], message: check.interval < 100 ? 'interval must be at least 100ms' : 'timeout must not exceed interval' });
  }
}
