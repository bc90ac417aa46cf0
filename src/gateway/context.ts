import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiKey } from '../store/records.js';
import type { RequestSpan } from '../telemetry/tracing.js';
import type { BodyTransformFactory } from './body-transform.js';
import type { CompiledRoute } from './router.js';

/** Everything one request carries through the stage pipeline. */
export interface GatewayContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly route: CompiledRoute;
  /** Request target as received (path and query). */
  readonly target: string;
  readonly startedAt: number;
  /**
   * The client: the direct peer, or behind `gateway.trustedProxies` the address X-Forwarded-For or Forwarded
   * (`gateway.clientAddressHeader`) names (client-address.ts). What access records, security events, limits, filters and bans use.
   */
  readonly clientIp: string;
  /** The direct TCP peer (a proxy, when there is one), an IPv4-mapped IPv6 peer as plain IPv4, as appended to X-Forwarded-For and Forwarded upstream. */
  readonly peerIp: string;
  /** True when the client connected over TLS (sets the forwarded proto). */
  readonly tls: boolean;
  /** Set by the authenticate stage for an API key caller. */
  key: ApiKey | null;
  /** Set by the authenticate stage: who the caller is, by key or JWT; null on `auth: none` routes. */
  caller: Caller | null;
  /** The request's server span when tracing is enabled (`tracing.enabled`). */
  readonly span: RequestSpan | undefined;
  /** The last upstream attempt's target label and timing in ms (-1: not reached), for the access record. */
  upstream: string | null;
  connectMs: number;
  ttfbMs: number;
  upstreamMs: number;
  /**
   * Set by stages that rewrite or inspect the request body as it streams (applied in order). Unset
   * (the usual case) the body is forwarded as received, Content-Length included, with no extra
   * stream; set, the body goes upstream chunked.
   */
  requestBodyTransforms?: BodyTransformFactory[];
  /** The same for the response body; opened per attempt with the upstream's response headers. */
  responseBodyTransforms?: BodyTransformFactory[];
  /**
   * Headers a stage adds to the response (name, value, name, value…; `addResponseHeader`), sent
   * with the upstream's answer (an upstream header of the same name wins) or with a rejection.
   */
  responseHeaders?: string[];
}

/** An authenticated caller, as the authorize stage checks it and the identity headers tell the upstream. */
export interface Caller {
  readonly method: 'apiKey' | 'jwt';
  /** The JWT's `sub`, or the key's owner label (`key:<id>` without one). */
  readonly subject: string;
  readonly keyId: string | null;
  /** The JWT issuer's configured name. */
  readonly issuer: string | null;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  /** The verified JWT payload (null for keys), for `claims` rules. */
  readonly claims: Readonly<Record<string, unknown>> | null;
}

/**
 * One step of the request pipeline. It may end the request by throwing a VigilError; returning
 * (or resolving) lets the request continue to the next stage.
 */
export type Stage = (ctx: GatewayContext) => void | Promise<void>;
