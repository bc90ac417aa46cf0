import type { RouteConfig, VigilConfig } from '../config/schema.js';
import { CREDENTIAL_HEADERS, DROP_REQUEST, DROP_RESPONSE } from './headers.js';
import { compileCors } from '../protection/cors.js';
import type { CompiledCors } from '../protection/cors.js';
import { compileSecurityHeaders } from '../protection/headers.js';
import type { CompiledSecurityHeaders } from '../protection/headers.js';

/** A compiled `pattern`/`rewrite.path` segment: literal text, one captured segment, or the rest of the path. */
type Segment = { readonly kind: 'literal'; readonly text: string } | { readonly kind: 'param' | 'rest'; readonly name: string };

export type MatchKind = 'path' | 'pattern' | 'prefix';

export interface CompiledRoute {
  readonly config: RouteConfig;
  readonly name: string;
  readonly kind: MatchKind;
  /** The `prefix`, `path` or `pattern` as configured. */
  readonly match: string;
  /** Methods served (GET brings HEAD); undefined: any. */
  readonly methods: ReadonlySet<string> | undefined;
  /** Request headers not forwarded: hop-by-hop, Vigil's own, Vigil credentials on keyed routes, the route's removals and the ones it sets. */
  readonly dropRequestHeaders: ReadonlySet<string>;
  readonly setRequestHeaders: readonly (readonly [string, string])[];
  readonly dropResponseHeaders: ReadonlySet<string>;
  readonly setResponseHeaders: readonly (readonly [string, string])[];
  /** Largest request body in bytes; 0 means no limit. */
  readonly maxBodyBytes: number;
  /** True when the path (without `?`) matches this route's path rule. */
  readonly matchesPath: (pathname: string) => boolean;
  /** The path and query sent upstream (before the target's base path), from the request target. */
  readonly forwardPath: (target: string) => string;
  /** Upstream header names for the authenticated caller (`gateway.identityHeaders`). */
  readonly identityHeaders: IdentityHeaderNames;
  /** Security headers added to responses; undefined when turned off. */
  readonly securityHeaders: CompiledSecurityHeaders | undefined;
  /** The route's CORS policy; undefined leaves CORS to the upstream. */
  readonly cors: CompiledCors | undefined;
}

export type IdentityHeaderNames = VigilConfig['gateway']['identityHeaders'];

function segmentsOf(pattern: string): Segment[] {
  return pattern
    .slice(1)
    .split('/')
    .map((part): Segment => (part[0] === ':' ? { kind: 'param', name: part.slice(1) } : part[0] === '*' ? { kind: 'rest', name: part.slice(1) } : { kind: 'literal', text: part }));
}

/**
 * Matches `pathname` against pattern segments without a regular expression (nothing can
 * backtrack): one pass over the path. A `:name` needs a non-empty segment; a last `*name` takes
 * whatever is left, nothing included (`/files/*rest` matches `/files`). Captures stay
 * percent-encoded, as received. With `captures`, fills it in segment order.
 */
function matchSegments(segments: readonly Segment[], pathname: string, captures?: Map<string, string>): boolean {
  let pos = 1;
  const length = pathname.length;
  for (const segment of segments) {
    if (segment.kind === 'rest') {
      captures?.set(segment.name, pos > length ? '' : pathname.slice(pos));
      return true;
    }
    if (pos > length) return false;
    let end = pathname.indexOf('/', pos);
    if (end === -1) end = length;
    if (segment.kind === 'literal') {
      if (end - pos !== segment.text.length || !pathname.startsWith(segment.text, pos)) return false;
    } else {
      if (end === pos) return false;
      captures?.set(segment.name, pathname.slice(pos, end));
    }
    pos = end + 1;
  }
  return pos === length + 1;
}

/** Specificity of a pattern, segment by segment: literal 0, `:name` 1, `*name` 2 (lower is more specific). */
function patternRank(segments: readonly Segment[]): number[] {
  return segments.map((s) => (s.kind === 'literal' ? 0 : s.kind === 'param' ? 1 : 2));
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const diff = (a[i] as number) - (b[i] as number);
    if (diff !== 0) return diff;
  }
  return b.length - a.length;
}

/** Keeps the query (and anything after the path) of `target` behind a new path. */
function withQuery(path: string, target: string, pathEnd: number): string {
  return pathEnd === target.length ? path : path + target.slice(pathEnd);
}

function queryStart(target: string): number {
  const q = target.indexOf('?');
  return q === -1 ? target.length : q;
}

/** The prefix rewrite: the matched prefix replaced by `to` (`''` strips it). */
function prefixRewrite(bare: string, to: string): (target: string) => string {
  const base = to.endsWith('/') ? to.slice(0, -1) : to;
  return (target) => {
    const rest = target.slice(bare.length);
    const c = rest.charCodeAt(0);
    const out = base + (rest === '' || c === 47 /* / */ || c === 63 /* ? */ ? rest : `/${rest}`);
    return out === '' || out.charCodeAt(0) === 63 ? `/${out}` : out;
  };
}

/** The `rewrite.path` of a pattern route: the template filled with the request's captures. */
function templateRewrite(segments: readonly Segment[], template: readonly Segment[]): (target: string) => string {
  return (target) => {
    const end = queryStart(target);
    const captures = new Map<string, string>();
    matchSegments(segments, target.slice(0, end), captures);
    let path = '';
    for (const part of template) path += `/${part.kind === 'literal' ? part.text : (captures.get(part.name) ?? '')}`;
    return withQuery(path, target, end);
  };
}

const identity = (target: string): string => target;

/**
 * Compiles one route's config once, so the request path only does set lookups and string
 * compares. Incoming copies of the identity headers are always dropped (a caller cannot forge
 * them); Vigil credentials are dropped on authenticated routes unless the route forwards them.
 */
export function compileRoute(config: RouteConfig, defaultMaxBodyBytes: number, identityHeaders: IdentityHeaderNames): CompiledRoute {
  const { request, response } = config.headers;
  let setRequest = Object.entries(request.set);
  // A response PII policy reads the body as it streams, so ask the upstream not to compress it.
  if (config.pii?.response) setRequest = [...setRequest.filter(([name]) => name !== 'accept-encoding'), ['accept-encoding', 'identity']];
  const setResponse = Object.entries(response.set);
  let kind: MatchKind;
  let match: string;
  let matchesPath: (pathname: string) => boolean;
  let forwardPath = identity;
  if (config.path !== undefined) {
    kind = 'path';
    const exact = (match = config.path);
    matchesPath = (pathname) => pathname === exact;
    const to = config.rewrite?.path;
    if (to !== undefined) forwardPath = (target) => withQuery(to, target, queryStart(target));
  } else if (config.pattern !== undefined) {
    kind = 'pattern';
    const segments = segmentsOf((match = config.pattern));
    matchesPath = (pathname) => matchSegments(segments, pathname);
    if (config.rewrite?.path !== undefined) forwardPath = templateRewrite(segments, segmentsOf(config.rewrite.path));
  } else {
    kind = 'prefix';
    const prefix = (match = config.prefix ?? '/');
    // Without its trailing slash, so `/agents/` also matches `/agents`.
    const bare = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    matchesPath = (pathname) => pathname.startsWith(prefix) || pathname === bare;
    const to = config.stripPrefix ? '' : config.rewrite?.prefix;
    if (to !== undefined) forwardPath = prefixRewrite(bare, to);
  }
  // With `cors`, OPTIONS reaches the route for its preflights (the hygiene stage refuses other OPTIONS requests).
  const listed = config.cors && config.methods.length > 0 ? [...config.methods, 'OPTIONS'] : config.methods;
  const methods = listed.length === 0 ? undefined : new Set(listed.includes('GET') ? [...listed, 'HEAD'] : listed);
  return {
    config,
    name: config.name,
    kind,
    match,
    methods,
    dropRequestHeaders: new Set([
      ...DROP_REQUEST,
      ...(config.auth !== 'none' && !config.forwardCredential ? CREDENTIAL_HEADERS : []),
      ...Object.values(identityHeaders),
      ...request.remove,
      ...setRequest.map(([name]) => name),
    ]),
    setRequestHeaders: setRequest,
    dropResponseHeaders: new Set([...DROP_RESPONSE, ...response.remove, ...setResponse.map(([name]) => name)]),
    setResponseHeaders: setResponse,
    maxBodyBytes: config.maxBodyBytes ?? defaultMaxBodyBytes,
    matchesPath,
    forwardPath,
    identityHeaders,
    securityHeaders: compileSecurityHeaders(config.securityHeaders),
    cors: config.cors ? compileCors(config.cors) : undefined,
  };
}

/** The routes of one host tier, each list already in precedence order. */
class Bucket {
  /** Exact-path routes by path: method-specific before any-method, then config order. */
  readonly exact = new Map<string, CompiledRoute[]>();
  /** Most specific pattern first (segment by segment: literal, `:name`, `*name`). */
  readonly patterns: CompiledRoute[] = [];
  /** Longest prefix first. */
  readonly prefixes: CompiledRoute[] = [];

  add(route: CompiledRoute): void {
    if (route.kind === 'path') {
      const list = this.exact.get(route.match) ?? [];
      list.push(route);
      this.exact.set(route.match, list);
    } else (route.kind === 'pattern' ? this.patterns : this.prefixes).push(route);
  }

  /** Sorts every list; `order` is each route's index in the config (the last tie-break). */
  seal(order: ReadonlyMap<CompiledRoute, number>): void {
    const methodFirst = (a: CompiledRoute, b: CompiledRoute): number => Number(a.methods === undefined) - Number(b.methods === undefined);
    const byOrder = (a: CompiledRoute, b: CompiledRoute): number => (order.get(a) as number) - (order.get(b) as number);
    for (const list of this.exact.values()) list.sort((a, b) => methodFirst(a, b) || byOrder(a, b));
    const ranks = new Map(this.patterns.map((r) => [r, patternRank(segmentsOf(r.match))]));
    this.patterns.sort((a, b) => compareRanks(ranks.get(a) as number[], ranks.get(b) as number[]) || methodFirst(a, b) || byOrder(a, b));
    this.prefixes.sort((a, b) => b.match.length - a.match.length || methodFirst(a, b) || byOrder(a, b));
  }

  /** The first route (in precedence order) for this path and method; with `all`, collects every path match instead. */
  find(pathname: string, method: string, all?: CompiledRoute[]): CompiledRoute | undefined {
    const exact = this.exact.get(pathname);
    if (exact) {
      for (const route of exact) if (accepts(route, method, all)) return route;
    }
    for (const route of this.patterns) if (route.matchesPath(pathname) && accepts(route, method, all)) return route;
    for (const route of this.prefixes) if (route.matchesPath(pathname) && accepts(route, method, all)) return route;
    return undefined;
  }
}

function accepts(route: CompiledRoute, method: string, all: CompiledRoute[] | undefined): boolean {
  if (all) {
    all.push(route);
    return false;
  }
  return route.methods === undefined || route.methods.has(method);
}

/** Characters a Host header may hold to be compared with routes' hosts (a name, IPv4 or bracketed IPv6, and a port). */
const HOST_CHARS = /^[A-Za-z0-9.:[\]-]{1,300}$/;

/**
 * The `Host` header as a route compares it: lower case, without the port and a trailing dot.
 * Empty when missing or not a plain host (such a request matches only routes without `hosts`).
 */
export function normalizeHost(host: string | undefined): string {
  if (host === undefined || !HOST_CHARS.test(host)) return '';
  let end = host.length;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    end = close === -1 ? end : close + 1;
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) end = colon;
  }
  if (host.charCodeAt(end - 1) === 46 /* . */) end--;
  return (end === host.length ? host : host.slice(0, end)).toLowerCase();
}

/**
 * The route table, compiled once per config load. Precedence (docs/gateway.md):
 * 1. host: an exact host beats a `*.` wildcard (the longest wildcard first), which beats a route without `hosts`;
 * 2. path, within that host tier: exact `path`, then `pattern` (most specific first), then `prefix` (longest first);
 * 3. a route listing `methods` before one that takes any method;
 * 4. config order.
 * The first route in that order whose host, path and method all match wins.
 */
export class Router {
  private readonly routes: CompiledRoute[];
  private readonly exactHosts = new Map<string, Bucket>();
  /** Keyed by the suffix with its leading dot (`.example.com`). */
  private readonly wildcardHosts = new Map<string, Bucket>();
  private readonly anyHost = new Bucket();

  constructor(routes: readonly RouteConfig[], defaultMaxBodyBytes: number, identityHeaders: IdentityHeaderNames) {
    this.routes = routes.map((config) => compileRoute(config, defaultMaxBodyBytes, identityHeaders));
    const order = new Map(this.routes.map((route, i) => [route, i]));
    for (const route of this.routes) {
      if (route.config.hosts.length === 0) this.anyHost.add(route);
      for (const host of route.config.hosts) {
        const wildcard = host.startsWith('*.');
        const buckets = wildcard ? this.wildcardHosts : this.exactHosts;
        const key = wildcard ? host.slice(1) : host;
        let bucket = buckets.get(key);
        if (!bucket) buckets.set(key, (bucket = new Bucket()));
        bucket.add(route);
      }
    }
    for (const bucket of [this.anyHost, ...this.exactHosts.values(), ...this.wildcardHosts.values()]) bucket.seal(order);
  }

  get all(): readonly CompiledRoute[] {
    return this.routes;
  }

  /** `pathname` is the request target before `?`; `host` the raw Host header. */
  match(pathname: string, host: string | undefined, method: string): CompiledRoute | undefined {
    if (this.exactHosts.size === 0 && this.wildcardHosts.size === 0) return this.anyHost.find(pathname, method);
    return this.search(normalizeHost(host), pathname, method, undefined);
  }

  /**
   * The methods served on this host and path by routes that `match` refused for their method
   * (for 405 and its `Allow` header); empty when no route takes the path at all.
   */
  allowedMethods(pathname: string, host: string | undefined): string[] {
    const all: CompiledRoute[] = [];
    this.search(normalizeHost(host), pathname, '', all);
    const methods = new Set<string>();
    for (const route of all) for (const method of route.methods ?? []) methods.add(method);
    return [...methods].sort();
  }

  private search(host: string, pathname: string, method: string, all: CompiledRoute[] | undefined): CompiledRoute | undefined {
    const exact = host === '' ? undefined : this.exactHosts.get(host);
    const found = exact?.find(pathname, method, all);
    if (found) return found;
    if (this.wildcardHosts.size > 0 && host !== '') {
      // `*.example.com` takes any name ending in `.example.com`; the longest suffix is tried first.
      for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
        const bucket = this.wildcardHosts.get(host.slice(dot));
        const wild = bucket?.find(pathname, method, all);
        if (wild) return wild;
      }
    }
    return this.anyHost.find(pathname, method, all);
  }
}

/** The path sent upstream: the route's rewrite applied, the target's base path prepended, query kept. */
export function upstreamPath(route: CompiledRoute, basePath: string, target: string): string {
  return basePath + route.forwardPath(target);
}

/** A `.` or `..` segment, also percent-encoded and between encoded slashes or backslashes (which some upstreams decode). */
const DOT_SEGMENT = /(?:^|\/|\\|%2f|%5c)(?:\.|%2e){1,2}(?:\/|\\|%2f|%5c|$|\?)/i;

/** True for a target with `.` or `..` segments (raw or percent-encoded), which could escape the route's path upstream. */
export function hasDotSegment(target: string): boolean {
  return target.includes('.') || target.includes('%') ? DOT_SEGMENT.test(target) : false;
}
