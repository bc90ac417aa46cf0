import safeRegex from 'safe-regex2';
import { z } from 'zod';
import { duration, httpHeaderName } from './schema-parts.js';

/**
 * Config parts for HTTP-level protection: security headers (gateway routes and console), CORS and
 * protocol hygiene per route, CSRF for the console. Everything a request path needs is checked here
 * at load, so hostile values (header injection, unsafe regexes, `*` with credentials) never start.
 */

/** A header value Vigil emits: printable ASCII only, no CR/LF/NUL, so it cannot split a response. */
const ASCII_VALUE = /^[\x20-\x7e]{1,4096}$/;
const METHOD = /^[A-Z][A-Z0-9_-]{0,31}$/;
const MEDIA_RANGE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/(?:\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/;

const headerValue = z.string().regex(ASCII_VALUE, 'must be 1-4096 printable ASCII characters (no CR, LF or NUL)');
const method = z
  .string()
  .regex(METHOD, 'must be an upper-case HTTP method token such as GET or POST');

/** helmet 8's default Content-Security-Policy, for pages a route may serve. */
export const HELMET_CSP =
  "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests";
/** Features an API response never needs. */
const PERMISSIONS_POLICY = 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()';
const REFERRER_TOKENS = [
  'no-referrer', 'no-referrer-when-downgrade', 'same-origin', 'origin', 'strict-origin', 'origin-when-cross-origin', 'strict-origin-when-cross-origin', 'unsafe-url',
] as const;

const ONE_YEAR = 365 * 24 * 3600 * 1000;

/** Security headers with helmet's current defaults; `csp` and `frame` differ between gateway routes and the console. */
export const securityHeadersSchema = (defaults: { csp: string; frame: 'DENY' | 'SAMEORIGIN'; what: string }) =>
  z
    .strictObject({
      enabled: z.boolean().default(true).describe(`Add security headers to ${defaults.what}. \`false\` adds none.`),
      override: z
        .union([z.boolean(), z.array(httpHeaderName).max(32)])
        .default(false)
        .describe('A header the upstream already sent is kept by default. `true` replaces every one with Vigil’s value; a list of header names replaces only those.'),
      contentSecurityPolicy: z.union([z.literal(false), headerValue]).default(defaults.csp).describe('`Content-Security-Policy` value; `false` omits it.'),
      strictTransportSecurity: z
        .strictObject({
          enabled: z.boolean().default(true).describe('Send `Strict-Transport-Security`; only ever over TLS (an HTTPS listener), never over plain HTTP.'),
          maxAge: duration.prefault('365d').describe('`max-age`: how long browsers must use HTTPS only.'),
          includeSubDomains: z.boolean().default(true).describe('Add `includeSubDomains`.'),
          preload: z.boolean().default(false).describe('Add `preload` (needs `maxAge` of at least a year and `includeSubDomains`).'),
        })
        .prefault({})
        .refine((hsts) => !hsts.preload || (hsts.maxAge >= ONE_YEAR && hsts.includeSubDomains), { message: '`preload` needs `maxAge` >= 365d and `includeSubDomains: true`', path: ['preload'] })
        .describe('HTTP Strict Transport Security.'),
      crossOriginOpenerPolicy: z
        .union([z.literal(false), z.enum(['same-origin', 'same-origin-allow-popups', 'noopener-allow-popups', 'unsafe-none'])])
        .default('same-origin')
        .describe('`Cross-Origin-Opener-Policy`; `false` omits it.'),
      crossOriginResourcePolicy: z
        .union([z.literal(false), z.enum(['same-origin', 'same-site', 'cross-origin'])])
        .default('same-origin')
        .describe('`Cross-Origin-Resource-Policy`; `false` omits it. Set `cross-origin` for resources other sites embed.'),
      crossOriginEmbedderPolicy: z
        .union([z.literal(false), z.enum(['require-corp', 'credentialless', 'unsafe-none'])])
        .default(false)
        .describe('`Cross-Origin-Embedder-Policy`; off by default, as in helmet.'),
      originAgentCluster: z.boolean().default(true).describe('Send `Origin-Agent-Cluster: ?1`.'),
      referrerPolicy: z
        .union([z.literal(false), z.array(z.enum(REFERRER_TOKENS)).min(1).max(8)])
        .default(['no-referrer'])
        .describe('`Referrer-Policy` tokens (the browser uses the last it knows); `false` omits it.'),
      xContentTypeOptions: z.boolean().default(true).describe('Send `X-Content-Type-Options: nosniff`.'),
      xDnsPrefetchControl: z.union([z.literal(false), z.enum(['off', 'on'])]).default('off').describe('`X-DNS-Prefetch-Control`; `false` omits it.'),
      xDownloadOptions: z.boolean().default(true).describe('Send `X-Download-Options: noopen` (old Internet Explorer).'),
      xFrameOptions: z.union([z.literal(false), z.enum(['DENY', 'SAMEORIGIN'])]).default(defaults.frame).describe('`X-Frame-Options`; `false` omits it.'),
      xPermittedCrossDomainPolicies: z
        .union([z.literal(false), z.enum(['none', 'master-only', 'by-content-type', 'all'])])
        .default('none')
        .describe('`X-Permitted-Cross-Domain-Policies`; `false` omits it.'),
      xXssProtection: z.boolean().default(true).describe('Send `X-XSS-Protection: 0` (turns off the buggy legacy filter, as helmet does).'),
      permissionsPolicy: z.union([z.literal(false), headerValue]).default(PERMISSIONS_POLICY).describe('`Permissions-Policy`; `false` omits it.'),
      hidePoweredBy: z.boolean().default(true).describe('Remove `X-Powered-By` (and `Server`) from responses, so the upstream stack is not advertised.'),
    })
    .prefault({});

export const routeSecurityHeaders = securityHeadersSchema({ csp: HELMET_CSP, frame: 'SAMEORIGIN', what: 'this route’s responses (the upstream’s and the gateway’s own rejections)' }).describe(
  'Security headers on this route’s responses; helmet’s current defaults unless changed.',
);

export const consoleSecurityHeaders = securityHeadersSchema({ csp: "default-src 'none'; frame-ancestors 'none'", frame: 'DENY', what: 'every console response' }).describe(
  'Security headers on console responses; helmet’s defaults with a CSP and framing policy for an API that serves no pages.',
);

const HOST_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const WILDCARD_ORIGIN = new RegExp(`^(https?)://\\*\\.((?:${HOST_LABEL}\\.)*${HOST_LABEL})(:\\d{1,5})?$`);

/** Why an origin string is not acceptable, or undefined. `*`, `scheme://host[:port]`, `scheme://*.host[:port]`. */
function originProblem(value: string): string | undefined {
  if (value === '*') return undefined;
  if (value.includes('*')) {
    return WILDCARD_ORIGIN.test(value) ? undefined : 'a wildcard origin is `https://*.example.com` (scheme, then `*.` and a lower-case domain, optional port)';
  }
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'an origin is http:// or https://';
    if (url.origin !== value) return `an origin is scheme://host[:port] in lower case without path or trailing slash (did you mean ${url.origin}?)`;
    return undefined;
  } catch {
    return 'must be `*`, an origin such as https://app.example.com, or a wildcard such as https://*.example.com';
  }
}

/** Why a regex origin is not acceptable, or undefined: anchored, compiles, and not prone to catastrophic backtracking. */
function regexProblem(source: string): string | undefined {
  if (!source.startsWith('^') || !source.endsWith('$')) return 'must be anchored: start with ^ and end with $';
  try {
    new RegExp(source);
  } catch (err) {
    return `does not compile: ${(err as Error).message}`;
  }
  return safeRegex(source) ? undefined : 'may backtrack catastrophically (nested or overlapping repetition); simplify it';
}

const originEntry = z.union([
  z
    .string()
    .max(300)
    .superRefine((value, ctx) => {
      const problem = originProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  z.strictObject({
    regex: z
      .string()
      .min(2)
      .max(500)
      .superRefine((value, ctx) => {
        const problem = regexProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('An anchored regular expression matched against the whole Origin header, e.g. `^https://[a-z0-9-]+\\.example\\.com$`.'),
  }),
]);

export const routeCors = z
  .strictObject({
    origins: z
      .array(originEntry)
      .min(1)
      .max(1000)
      .describe('Allowed origins: `*`, exact (`https://app.example.com`), wildcard subdomains (`https://*.example.com`: one or more labels, not the bare domain), or `{ regex: ^…$ }` (checked safe at load).'),
    methods: z.array(method).min(1).max(32).default(['GET', 'HEAD', 'POST']).describe('Methods a preflight may ask for (`Access-Control-Allow-Methods`).'),
    allowHeaders: z
      .array(httpHeaderName)
      .max(64)
      .default(['content-type', 'authorization', 'x-api-key', 'x-request-id'])
      .describe('Request headers a preflight may ask for (`Access-Control-Allow-Headers`), case-insensitive.'),
    exposeHeaders: z.array(httpHeaderName).max(64).default(['x-request-id']).describe('Response headers scripts may read (`Access-Control-Expose-Headers`).'),
    credentials: z.boolean().default(false).describe('Allow cookies and HTTP authentication (`Access-Control-Allow-Credentials: true`); never together with origin `*`.'),
    maxAge: duration
      .prefault('10m')
      .refine((ms) => ms <= 86_400_000, 'must be at most 24h (browsers cap it lower)')
      .describe('How long a browser may cache a preflight answer (`Access-Control-Max-Age`).'),
  })
  .refine((cors) => !(cors.credentials && cors.origins.includes('*')), { message: '`credentials: true` cannot be combined with origin `*`; list the origins', path: ['credentials'] })
  .optional()
  .describe('CORS: the gateway answers preflights itself (the upstream never sees them) and adds the CORS headers and `Vary: Origin` to responses. Absent: CORS is left to the upstream.');

export const routeHygiene = z
  .strictObject({
    contentTypes: z
      .array(
        z
          .string()
          .max(256)
          .transform((value) => value.toLowerCase())
          .pipe(z.string().regex(MEDIA_RANGE, 'must be a media type such as application/json or a range such as text/*')),
      )
      .min(1)
      .max(32)
      .optional()
      .describe('Media types (`type/subtype` or `type/*`, parameters ignored) a request body may have; a body without an allowed `Content-Type` gets 415. Absent: any.'),
    json: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Scan JSON bodies (`application/json`, `*+json`) as they stream upstream and cut them at the first limit crossed.'),
        maxDepth: z.number().int().min(1).max(10_000).default(64).describe('Deepest nesting of objects and arrays.'),
        maxKeys: z.number().int().min(1).max(10_000_000).default(10_000).describe('Object members in the whole document.'),
        maxStringLength: z.number().int().min(1).max(1_073_741_824).default(1_048_576).describe('Longest string (key or value), in bytes as sent (escapes count as written).'),
      })
      .prefault({})
      .describe('Cheap limits against JSON parser DoS, checked on the bytes as they stream (no buffering); 413 (or 400 for broken structure) before the upstream has the whole body.'),
    rejectInvalidUtf8: z.boolean().default(true).describe('Reject (400) header values and query strings that are not valid UTF-8 or hold a null byte. Path checks (encoded traversal, overlong UTF-8, backslashes, `%00`) are always on.'),
  })
  .prefault({})
  .describe('Protocol hygiene: content-type allow list, JSON limits, path and encoding checks (the method allow list is the route’s `methods`).');

export const consoleCsrf = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Require the CSRF token on state-changing console requests authenticated by the session cookie. Turn off only for a console no browser uses.'),
    maxAge: duration
      .prefault('4h')
      .refine((ms) => ms >= 60_000 && ms <= 7 * 86_400_000, 'must be between 1m and 7d')
      .describe('Oldest CSRF token accepted; fetch a new one with `GET /api/v1/auth/csrf`.'),
  })
  .prefault({})
  .describe('CSRF protection of state-changing console requests authenticated by the session cookie (bearer tokens are exempt).');
