import type { RouteConfig, VigilConfig } from '../config/schema.js';
import { CREDENTIAL_HEADERS, DROP_REQUEST, DROP_RESPONSE } from './headers.js';

export interface CompiledRoute {
  readonly config: RouteConfig;
  readonly name: string;
  readonly prefix: string;
  /** The prefix without a trailing slash, so `/agents/` also matches `/agents`. */
  readonly bare: string;
  /** Request headers not forwarded: hop-by-hop, Vigil's own, Vigil credentials on keyed routes, the route's removals and the ones it sets. */
  readonly dropRequestHeaders: ReadonlySet<string>;
  readonly setRequestHeaders: readonly (readonly [string, string])[];
  readonly dropResponseHeaders: ReadonlySet<string>;
  readonly setResponseHeaders: readonly (readonly [string, string])[];
  /** Largest request body in bytes; 0 means no limit. */
  readonly maxBodyBytes: number;
  /** Upstream header names for the authenticated caller (`gateway.identityHeaders`). */
  readonly identityHeaders: IdentityHeaderNames;
}

export type IdentityHeaderNames = VigilConfig['gateway']['identityHeaders'];

/**
 * Compiles one route's config once, so the request path only does set lookups. Incoming copies of
 * the identity headers are always dropped (a caller cannot forge them); Vigil credentials are
 * dropped on authenticated routes unless the route forwards them.
 */
export function compileRoute(config: RouteConfig, defaultMaxBodyBytes: number, identityHeaders: IdentityHeaderNames): CompiledRoute {
  const { request, response } = config.headers;
  let setRequest = Object.entries(request.set);
  // A response PII policy reads the body as it streams, so ask the upstream not to compress it.
  if (config.pii?.response) setRequest = [...setRequest.filter(([name]) => name !== 'accept-encoding'), ['accept-encoding', 'identity']];
  const setResponse = Object.entries(response.set);
  return {
    config,
    name: config.name,
    prefix: config.prefix,
    bare: config.prefix.length > 1 && config.prefix.endsWith('/') ? config.prefix.slice(0, -1) : config.prefix,
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
    identityHeaders,
  };
}

/** Route table compiled once per config load: longest prefix first, so the most specific route wins. */
export class Router {
  private readonly routes: CompiledRoute[];

  constructor(routes: readonly RouteConfig[], defaultMaxBodyBytes: number, identityHeaders: IdentityHeaderNames) {
    this.routes = routes.map((config) => compileRoute(config, defaultMaxBodyBytes, identityHeaders)).sort((a, b) => b.prefix.length - a.prefix.length);
  }

  get all(): readonly CompiledRoute[] {
    return this.routes;
  }

  /** `pathname` is the request target before `?`. */
  match(pathname: string): CompiledRoute | undefined {
    for (const route of this.routes) {
      if (pathname.startsWith(route.prefix) || pathname === route.bare) return route;
    }
    return undefined;
  }
}

/** The path sent upstream: prefix stripped if asked, the target's base path prepended, query kept. */
export function upstreamPath(route: CompiledRoute, basePath: string, target: string): string {
  let rest = target;
  if (route.config.stripPrefix) {
    rest = target.slice(target.startsWith(route.prefix) ? route.prefix.length : route.bare.length);
    if (!rest.startsWith('/')) rest = `/${rest}`;
  }
  return basePath + rest;
}

const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$|\?)/i;

/** True for a target with `.` or `..` segments (raw or percent-encoded), which could escape the prefix upstream. */
export function hasDotSegment(target: string): boolean {
  return target.includes('.') || target.includes('%') ? DOT_SEGMENT.test(target) : false;
}
