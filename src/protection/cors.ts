import type { OutgoingHttpHeaders } from 'node:http';
import type { RouteConfig } from '../config/schema.js';
import { VigilError } from '../core/errors.js';
import type { Stage } from '../gateway/context.js';
import { securityHeaderList } from './headers.js';
import type { CompiledSecurityHeaders } from './headers.js';
import { isPreflight, recordRejection } from './hygiene.js';
import type { ProtectionDeps } from './hygiene.js';

type CorsConfig = NonNullable<RouteConfig['cors']>;

/** A route's CORS policy, compiled once per config load. */
export interface CompiledCors {
  /** True when `origin` may read this route's responses. */
  allows(origin: string): boolean;
  /** `*` is allowed and credentials are not: `Access-Control-Allow-Origin: *`. */
  readonly anyOrigin: boolean;
  readonly credentials: boolean;
  readonly methods: ReadonlySet<string>;
  readonly allowHeaders: ReadonlySet<string>;
  /** Preflight answer headers that do not depend on the origin. */
  readonly methodsValue: string;
  readonly allowHeadersValue: string;
  readonly exposeValue: string | undefined;
  readonly maxAgeValue: string;
}

/** Simple headers a browser never asks a preflight for (CORS-safelisted), always allowed. */
const SAFELISTED = ['accept', 'accept-language', 'content-language', 'content-type', 'range'];

export function compileCors(config: CorsConfig): CompiledCors {
  const exact = new Set<string>();
  const suffixes: { scheme: string; suffix: string; port: string }[] = [];
  const patterns: RegExp[] = [];
  let any = false;
  for (const entry of config.origins) {
    if (typeof entry !== 'string') patterns.push(new RegExp(entry.regex));
    else if (entry === '*') any = true;
    else if (entry.includes('*')) {
      // `https://*.example.com:8443` → scheme `https://`, suffix `.example.com`, port `:8443`.
      const schemeEnd = entry.indexOf('://') + 3;
      const hostAndPort = entry.slice(schemeEnd + 1);
      const colon = hostAndPort.indexOf(':');
      suffixes.push({
        scheme: entry.slice(0, schemeEnd),
        suffix: colon === -1 ? hostAndPort : hostAndPort.slice(0, colon),
        port: colon === -1 ? '' : hostAndPort.slice(colon),
      });
    } else exact.add(entry);
  }
  const allows = (origin: string): boolean => {
    if (any || exact.has(origin)) return true;
    if (origin.length > 300) return false;
    for (const { scheme, suffix, port } of suffixes) {
      if (!origin.startsWith(scheme)) continue;
      const hostPort = origin.slice(scheme.length);
      if (port !== '' && !hostPort.endsWith(port)) continue;
      const host = port === '' ? hostPort : hostPort.slice(0, -port.length);
      // At least one label before the suffix, of host characters only (no port, path or userinfo).
      if (host.length > suffix.length && host.endsWith(suffix) && /^[a-z0-9.-]+$/.test(host) && !host.startsWith('.') && !host.includes('..')) return true;
    }
    return patterns.some((pattern) => pattern.test(origin));
  };
  return {
    allows,
    anyOrigin: any && !config.credentials,
    credentials: config.credentials,
    methods: new Set(config.methods),
    allowHeaders: new Set([...config.allowHeaders, ...SAFELISTED]),
    methodsValue: config.methods.join(', '),
    allowHeadersValue: config.allowHeaders.join(', '),
    exposeValue: config.exposeHeaders.length > 0 ? config.exposeHeaders.join(', ') : undefined,
    maxAgeValue: String(Math.floor(config.maxAge / 1000)),
  };
}

/** `Vary` with `Origin` added once, keeping what the upstream listed. */
function varyWithOrigin(vary: OutgoingHttpHeaders[string]): string {
  if (vary === undefined) return 'Origin';
  const text = Array.isArray(vary) ? vary.join(', ') : String(vary);
  return /(?:^|,)\s*(?:origin|\*)\s*(?:,|$)/i.test(text) ? text : `${text}, Origin`;
}

/**
 * The CORS part of a response Vigil relays or writes: the upstream's own `Access-Control-*`
 * headers are dropped (the route's policy decides), the allowed origin is echoed (or `*`), and
 * `Vary: Origin` keeps shared caches from serving one origin's answer to another.
 */
export function applyCorsHeaders(out: OutgoingHttpHeaders, cors: CompiledCors, origin: string | undefined): void {
  for (const name of Object.keys(out)) if (name.startsWith('access-control-')) delete out[name];
  out.vary = varyWithOrigin(out.vary);
  if (origin === undefined || !cors.allows(origin)) return;
  out['access-control-allow-origin'] = cors.anyOrigin ? '*' : origin;
  if (cors.credentials) out['access-control-allow-credentials'] = 'true';
  if (cors.exposeValue) out['access-control-expose-headers'] = cors.exposeValue;
}

/** Why a preflight is refused, or undefined when it is allowed. */
function preflightProblem(cors: CompiledCors, origin: string, method: string, requested: string | undefined): string | undefined {
  if (!cors.allows(origin)) return 'origin';
  if (!cors.methods.has(method)) return 'method';
  if (requested !== undefined) {
    for (const raw of requested.split(',')) {
      const name = raw.trim().toLowerCase();
      if (name !== '' && !cors.allowHeaders.has(name)) return 'header';
    }
  }
  return undefined;
}

/**
 * Answers a CORS preflight at the gateway (the upstream never sees it): 204 with the route's
 * policy when origin, method and headers are allowed, a coded 403 and a security event otherwise.
 * Any other request passes through.
 */
export function corsPreflight(cors: CompiledCors, security: CompiledSecurityHeaders | undefined, deps: ProtectionDeps): Stage {
  return function corsPreflightStage(ctx) {
    if (!isPreflight(ctx)) return;
    const { headers } = ctx.req;
    const origin = headers.origin as string;
    const method = headers['access-control-request-method'] as string;
    const requested = headers['access-control-request-headers'];
    const problem = preflightProblem(cors, origin, method, requested);
    if (problem) {
      ctx.res.setHeader('vary', 'Origin');
      const error = new VigilError('VGL_CORS_DENIED', `CORS preflight refused: the ${problem} is not allowed on this route`);
      recordRejection(deps, ctx, error, 'cors.preflight_denied', 'low', { reason: problem, origin: origin.slice(0, 256), method: method.slice(0, 32), headers: requested?.slice(0, 512) ?? null });
      throw error;
    }
    const out: OutgoingHttpHeaders = {
      'access-control-allow-origin': cors.anyOrigin ? '*' : origin,
      'access-control-allow-methods': cors.methodsValue,
      'access-control-max-age': cors.maxAgeValue,
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      'content-length': '0',
      'x-request-id': ctx.requestId,
    };
    if (cors.allowHeadersValue !== '') out['access-control-allow-headers'] = cors.allowHeadersValue;
    if (cors.credentials) out['access-control-allow-credentials'] = 'true';
    for (const [name, value] of securityHeaderList(security, ctx.tls)) out[name] = value;
    ctx.res.writeHead(204, out);
    ctx.res.end();
  };
}
