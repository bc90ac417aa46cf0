import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { duration, httpUrl } from './schema-parts.js';

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
  .describe('Addresses or CIDRs of proxies in front of Vigil whose X-Forwarded-For/Proto/Host and Forwarded headers are kept; from anyone else they are replaced.');

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
