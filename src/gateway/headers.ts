import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { validHost, validProto } from './client-address.js';
import type { PriorForwarding } from './client-address.js';
import type { Caller, GatewayContext } from './context.js';
import type { IdentityHeaderNames } from './router.js';
import { upstreamTraceparent } from './trace-context.js';
import { applyCorsHeaders } from '../protection/cors.js';
import { applySecurityHeaders } from '../protection/headers.js';

/**
 * Request headers never forwarded: hop-by-hop headers (RFC 9110 §7.6.1), the Host (set to the
 * upstream's), Vigil's own correlation headers (set by Vigil) and the forwarding headers (rebuilt
 * below, trusting incoming ones only from configured proxies).
 */
export const DROP_REQUEST: readonly string[] = [
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authorization', 'expect', 'host', 'x-request-id', 'x-correlation-id', 'x-forwarded-for',
  'x-forwarded-host', 'x-forwarded-proto', 'forwarded', 'traceparent',
];
/** Vigil's own credentials, which belong to the gateway and never reach the upstream. */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'x-api-key'];
export const DROP_RESPONSE: readonly string[] = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

function connectionTokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : value).toLowerCase().split(',').map((t) => t.trim());
}

/** A `Forwarded` node: IPv6 addresses are quoted and bracketed (RFC 7239 §6); a hop that names no address is `unknown`. */
function forwardedNode(ip: string | undefined): string {
  if (ip === undefined) return 'unknown';
  return ip.includes(':') ? `"[${ip}]"` : ip;
}

/**
 * The header list sent upstream. `traceparent` names the attempt's client span when tracing is on;
 * without tracing, the caller's trace continues with a fresh hop id (trace-context.ts).
 *
 * Forwarding headers: from a peer that is not a trusted proxy (`prior` undefined) every incoming one
 * is replaced by Vigil's own hop, so a caller cannot spoof its address or scheme to the upstream.
 * Behind a trusted proxy only the header Vigil reads the client address from is kept and appended
 * to; the other is rebuilt from the same chain (`prior.hops`), never passed on, because a proxy
 * that writes one usually passes the other through from the client untouched. X-Forwarded-Proto and
 * -Host follow X-Forwarded-For: kept when Vigil reads it, otherwise taken from the Forwarded element
 * that names the client; either way only one well-formed scheme / plain host[:port], else Vigil's
 * own scheme and the request's Host (itself left out when it is no plain host).
 */
export function requestHeaders(ctx: GatewayContext, prior: PriorForwarding | undefined, upstreamHost: string, traceparent?: string, transformed = false): string[] {
  const { req, route } = ctx;
  const raw = req.rawHeaders;
  const drop = route.dropRequestHeaders;
  const hopTokens = req.headers.connection === undefined ? undefined : connectionTokens(req.headers.connection);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (drop.has(lower) || hopTokens?.includes(lower)) continue;
    // A transformed body's length is unknown: it goes chunked.
    if (transformed && lower === 'content-length') continue;
    out.push(name, raw[i + 1] as string);
  }
  const headers = req.headers;
  const proto = ctx.tls ? 'https' : 'http';
  const host = validHost(headers.host);
  const peer = ctx.peerIp;
  let element = `for=${forwardedNode(peer)};proto=${proto}`;
  if (host !== undefined) element += `;host="${host}"`;
  let forwardedFor = peer;
  let forwarded = element;
  let forwardedProto = proto;
  let forwardedHost = host;
  if (prior?.from === 'x-forwarded-for') {
    const kept = joined(headers['x-forwarded-for']);
    if (kept) forwardedFor = `${kept}, ${peer}`;
    if (prior.hops.length > 0) forwarded = `${prior.hops.map((hop) => `for=${forwardedNode(hop)}`).join(', ')}, ${element}`;
    forwardedProto = validProto(joined(headers['x-forwarded-proto'])) ?? proto;
    forwardedHost = validHost(joined(headers['x-forwarded-host'])) ?? host;
  } else if (prior) {
    const kept = joined(headers.forwarded);
    if (kept) forwarded = `${kept}, ${element}`;
    if (prior.hops.length > 0) forwardedFor = `${prior.hops.map((hop) => hop ?? 'unknown').join(', ')}, ${peer}`;
    forwardedProto = prior.proto ?? proto;
    forwardedHost = prior.host ?? host;
  }
  out.push(
    'host', upstreamHost,
    'x-request-id', ctx.requestId,
    'traceparent', traceparent ?? ctx.span?.traceparent ?? upstreamTraceparent(headers.traceparent),
    'x-forwarded-for', forwardedFor,
    'x-forwarded-proto', forwardedProto,
  );
  if (forwardedHost !== undefined) out.push('x-forwarded-host', forwardedHost);
  out.push('forwarded', forwarded);
  if (ctx.caller) pushIdentity(out, ctx.caller, route.identityHeaders);
  for (const [name, value] of route.setRequestHeaders) out.push(name, value);
  return out;
}

/** Printable ASCII stays as is; anything else (from a JWT claim) is percent-encoded, so no value can break the header. */
const PLAIN = /^[\x20-\x7e]*$/;
function headerSafe(value: string): string {
  return PLAIN.test(value) ? value : encodeURIComponent(value);
}

/** The identity headers for an authenticated caller; the route's own `set` rules still win over them. */
function pushIdentity(out: string[], caller: Caller, names: IdentityHeaderNames): void {
  out.push(names.method, caller.method, names.subject, headerSafe(caller.subject));
  if (caller.keyId !== null) out.push(names.keyId, caller.keyId);
  if (caller.issuer !== null) out.push(names.issuer, headerSafe(caller.issuer));
  if (caller.scopes.length > 0) out.push(names.scopes, headerSafe(caller.scopes.join(' ')));
  if (caller.roles.length > 0) out.push(names.roles, caller.roles.map((role) => (role.includes(',') ? encodeURIComponent(role) : headerSafe(role))).join(','));
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Adds a header to the response a stage lets through (or rejects), appending to a value added
 * before (`, `-separated list). Kept on the context rather than set on the response: a header set
 * with `res.setHeader` ahead of `writeHead` costs every response node:http's slow path.
 */
export function addResponseHeader(ctx: GatewayContext, name: string, value: string): void {
  const list = (ctx.responseHeaders ??= []);
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] === name) {
      list[i + 1] = `${list[i + 1] as string}, ${value}`;
      return;
    }
  }
  list.push(name, value);
}

/** The upstream's response headers minus hop-by-hop ones and the route's removals, plus the request ID and the stages' own. */
export function responseHeaders(ctx: GatewayContext, headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const added = ctx.responseHeaders;
  if (added) for (let i = 0; i < added.length; i += 2) out[added[i] as string] = added[i + 1];
  const hopTokens = headers.connection === undefined ? undefined : connectionTokens(headers.connection);
  const drop = ctx.route.dropResponseHeaders;
  for (const name in headers) {
    if (drop.has(name) || hopTokens?.includes(name)) continue;
    out[name] = headers[name];
  }
  for (const [name, value] of ctx.route.setResponseHeaders) out[name] = value;
  out['x-request-id'] = ctx.requestId;
  const { securityHeaders, cors } = ctx.route;
  if (securityHeaders) applySecurityHeaders(out, securityHeaders, ctx.tls);
  if (cors) applyCorsHeaders(out, cors, ctx.req.headers.origin);
  return out;
}
