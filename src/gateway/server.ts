import { createServer, ServerResponse as HttpServerResponse } from 'node:http';
import type { ServerOptions } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import { readListenerTls, watchListenerTls } from './listener-tls.js';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import { errorBody, isVigilError, VigilError } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';
import { settledBy } from '../core/lifecycle.js';
import type { Component } from '../core/lifecycle.js';
import type { VigilConfig } from '../config/schema.js';
import type { KeyCache } from '../identity/api-keys.js';
import type { AccessRecord } from '../store/records.js';
import type { RequestSpan, Tracing } from '../telemetry/tracing.js';
import { requestIdFrom } from '../telemetry/context.js';
import { accessLogFor } from '../telemetry/logger.js';
import type { AccessLog, Logger } from '../telemetry/logger.js';
import type { GatewayContext } from './context.js';
import { GatewayMetrics } from './metrics.js';
import { answerClientError } from './client-errors.js';
import { forward } from './proxy.js';
import { compilePipeline } from './pipeline.js';
import { UpstreamMetrics } from './upstream-metrics.js';
import { RouteTable } from './route-table.js';
import type { RouteEntry } from './route-table.js';
import { tunnel } from './upgrade.js';
import type { CompiledRoute } from './router.js';
import { hasDotSegment } from './router.js';
import type { SecurityEventRecorder } from '../identity/security-events.js';
import type { JwtTrust } from './jwt-trust.js';
import type { PiiTokenizer } from '../pii/tokenize.js';
import type { TrafficProtection } from '../protection/rate-limit-protection.js';
import { listen } from '../core/listen.js';
import { applyCorsHeaders } from '../protection/cors.js';
import { securityHeaderList } from '../protection/headers.js';
import { isPreflight, rejectTarget } from '../protection/hygiene.js';
import { plainAddress } from '../protection/ip-filter.js';

export interface GatewayDeps {
  config: VigilConfig;
  keys: KeyCache;
  logger: Logger;
  registry: Registry;
  clock: Clock;
  /** Where the gateway's stages report rejections worth a security event (auth failures, bans, limits). */
  securityEvents: SecurityEventRecorder;
  /** The JWT issuers `auth: jwt | either` routes trust; updated on reload. */
  jwt: JwtTrust;
  /** The vault's PII tokenizer, for routes whose `pii` policy tokenizes. */
  piiTokenizer: () => Promise<PiiTokenizer>;
  /** IP filters, bans, rate and concurrency limits (docs/protection.md); none when absent. */
  protection?: TrafficProtection;
  onAccess: (record: AccessRecord) => void;
  /** Present when `tracing.enabled`: a server span per request, a client span per upstream attempt. */
  tracing?: Tracing;
}

const NO_ROUTE = '(none)';

/** What the access record needs, filled in as the request passes the pipeline. */
interface RequestState {
  readonly requestId: string;
  readonly target: string;
  readonly clientIp: string;
  readonly peerIp: string;
  readonly startedAt: number;
  route: CompiledRoute | undefined;
  /** The table the route came from, released when the request ends. */
  table: RouteTable | undefined;
  ctx: GatewayContext | undefined;
  errorCode: ErrorCode | null;
  /** Set once an Upgrade request's tunnel is open (recorded as 101). */
  upgraded: boolean;
  readonly span: RequestSpan | undefined;
  readonly res: ServerResponse;
}

/** The raw connection and the bytes after the headers of an Upgrade request. */
interface UpgradeRequest {
  readonly socket: Duplex;
  readonly head: Buffer;
}
const REJECTION_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** The data-plane listener: route, run the route's stages, forward, record. */
export class GatewayServer implements Component {
  readonly name = 'gateway';
  private readonly server: Server | HttpsServer;
  /** True when the listener speaks HTTPS (sets the forwarded proto). */
  private readonly tls: boolean;
  private readonly stopWatchingTls: (() => void) | undefined;
  /** Routes, stages and upstreams; replaced as a whole by reload(). */
  private table: RouteTable;
  private readonly upstreamMetrics: UpstreamMetrics;
  private readonly metrics: GatewayMetrics;
  private readonly accessLog: AccessLog;
  /** The request under way on each socket, so a client error on it can be answered safely. */
  private readonly activeRequests = new WeakMap<Socket, RequestState>();
  /** Open upgraded (WebSocket) connections: node:http no longer tracks them, so stop() cuts them here. */
  private readonly tunnels = new Set<Duplex>();
  private inFlight = 0;
  /** Routes an alert switched to their fallback targets (routeFallback action); kept across reloads. */
  private readonly fallbackRoutes = new Set<string>();
  private draining = false;
  private drained: (() => void) | undefined;

  constructor(private readonly deps: GatewayDeps) {
    const { gateway } = deps.config;
    this.metrics = new GatewayMetrics(deps.registry);
    this.upstreamMetrics = new UpstreamMetrics(deps.registry, deps.logger);
    this.table = new RouteTable(deps.config, (route) => compilePipeline(route, deps), this.upstreamMetrics, deps.clock);
    // Access lines have one fixed shape with no credential fields: no field-path redaction, and
    // PII masking on the fields that can carry it rather than the whole line (bench/README.md).
    this.accessLog = accessLogFor(deps.logger);
    const listenerTls = gateway.tls ? readListenerTls(gateway.tls) : undefined;
    const options: ServerOptions = {
      maxHeaderSize: gateway.maxHeaderBytes,
      requestTimeout: gateway.limits.requestTimeout,
      headersTimeout: gateway.limits.headersTimeout,
      keepAliveTimeout: gateway.limits.keepAliveTimeout,
      // How often node:http checks the two timeouts above (default 30 s, too coarse for them).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, gateway.limits.headersTimeout / 4)),
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    if (listenerTls && gateway.tls) {
      const server = createHttpsServer({ ...options, ...listenerTls }, onRequest);
      this.stopWatchingTls = watchListenerTls(server, gateway.tls, deps.logger);
      this.server = server;
    } else {
      this.server = createServer(options, onRequest);
    }
    this.tls = listenerTls !== undefined;
    if (gateway.limits.maxConnections > 0) this.server.maxConnections = gateway.limits.maxConnections;
    this.server.on('drop', () => this.deps.logger.warn({ code: 'VGL_GATEWAY_MAX_CONNECTIONS', limit: gateway.limits.maxConnections }, 'connection refused: gateway.limits.maxConnections reached'));
    // Expect: 100-continue is answered by the gateway only once the request passed its stages
    // (see forward), so a client that would be refused never sends its body.
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      const active = this.activeRequests.get(socket);
      answerClientError(err, socket, active?.res, (res, code, message) => this.reject(res, new VigilError(code, message), active?.requestId ?? requestIdFrom(undefined)), deps.logger);
    });
  }

  /**
   * Sends a route's traffic only to its fallback targets (on) or back to the usual choice (off);
   * the switch survives reloads. Used by the alert rules' routeFallback action.
   */
  useFallback(route: string, on: boolean): void {
    const upstreams = this.table.upstreamsOf(route);
    if (upstreams === undefined) throw new VigilError('VGL_ALERT_ROUTE_FALLBACK', `no route named '${route}' in the running gateway`);
    if (!upstreams.targets.some((t) => t.fallback)) throw new VigilError('VGL_ALERT_ROUTE_FALLBACK', `route '${route}' has no fallback targets`);
    upstreams.fallbackOnly = on;
    if (on) this.fallbackRoutes.add(route);
    else this.fallbackRoutes.delete(route);
    this.deps.logger.warn({ route, fallback: on }, on ? 'route switched to its fallback targets' : 'route back on its primary targets');
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  async start(): Promise<void> {
    const { host, port } = this.deps.config.gateway.listen;
    await listen(this.server, host, port, 'gateway');
    this.deps.logger.info({ address: this.address() }, 'gateway listening');
  }

  /** Stops accepting, lets in-flight requests (streams included) finish until the deadline, then cuts the rest. */
  async stop(deadline: number): Promise<void> {
    this.draining = true;
    this.stopWatchingTls?.();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      const drained = new Promise<void>((resolve) => (this.drained = resolve));
      if (!(await settledBy(drained, deadline))) {
        this.deps.logger.warn({ inFlight: this.inFlight, code: 'VGL_SHUTDOWN_TIMEOUT' }, 'drain deadline reached; closing remaining connections');
      }
    }
    this.server.closeAllConnections();
    for (const socket of this.tunnels) socket.destroy();
    await closed;
    this.deps.jwt.stop();
    await this.table.retire(undefined);
  }

  /**
   * The request ID goes into the response's header list with everything else (responseHeaders,
   * reject): a header set beforehand with setHeader would send node:http's writeHead down its
   * slow path on every response.
   */
  private handle(req: IncomingMessage, res: ServerResponse): void {
    void this.dispatch(req, res, requestIdFrom(req.headers['x-request-id'] ?? req.headers['x-correlation-id']));
  }

  /**
   * Swaps in the routes, stages and upstreams of a new configuration without closing the listener
   * or any connection: requests already running finish on the table they started with, and pools
   * no longer used are closed once their requests are done. The listener address and limits are
   * not reloadable; a change to them is reported and needs a restart.
   */
  async reload(config: VigilConfig): Promise<void> {
    const previous = this.table;
    this.deps.jwt.update(config);
    this.table = new RouteTable(config, (route) => compilePipeline(route, { ...this.deps, config }), this.upstreamMetrics, this.deps.clock, previous);
    for (const route of this.fallbackRoutes) {
      const upstreams = this.table.upstreamsOf(route);
      if (upstreams) upstreams.fallbackOnly = true;
    }
    const before = this.deps.config.gateway;
    const after = config.gateway;
    if (JSON.stringify([before.listen, before.limits, before.maxHeaderBytes]) !== JSON.stringify([after.listen, after.limits, after.maxHeaderBytes])) {
      this.deps.logger.warn('gateway.listen, gateway.limits and gateway.maxHeaderBytes changes take effect only after a restart');
    }
    this.deps.logger.info({ routes: this.table.size }, 'gateway routes reloaded');
    await previous.retire(this.table);
  }

  /** An Upgrade request gets the same checks and stages as any other, with a response bound to its raw socket. */
  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const requestId = requestIdFrom(req.headers['x-request-id'] ?? req.headers['x-correlation-id']);
    const res = new HttpServerResponse(req);
    res.assignSocket(socket as Socket);
    res.shouldKeepAlive = false;
    res.setHeader('x-request-id', requestId);
    res.once('finish', () => socket.end());
    socket.on('error', () => socket.destroy());
    this.tunnels.add(socket);
    socket.once('close', () => this.tunnels.delete(socket));
    void this.dispatch(req, res, requestId, { socket, head });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, requestId: string, upgrade?: UpgradeRequest): Promise<void> {
    // Read now: the socket is gone by the time a closed response is recorded. An IPv4 client of a
    // dual-stack listener (`::ffff:a.b.c.d`) becomes plain IPv4 here, the one place the address
    // enters, so it is the same client in forwarding headers, records, limits, filters and bans.
    const peerIp = plainAddress(req.socket.remoteAddress ?? '');
    const clientIp = this.table.clientAddress(peerIp, req.headers);
    const state: RequestState = {
      requestId,
      target: req.url ?? '/',
      clientIp,
      peerIp,
      startedAt: performance.now(),
      route: undefined,
      table: undefined,
      ctx: undefined,
      errorCode: null,
      upgraded: false,
      span: this.deps.tracing?.request(req, requestId, clientIp, peerIp, this.tls),
      res,
    };
    this.inFlight++;
    this.activeRequests.set(req.socket, state);
    res.once('close', () => this.finish(req, res, state));
    try {
      if (this.draining) {
        res.setHeader('connection', 'close');
        throw new VigilError('VGL_GATEWAY_SHUTTING_DOWN', 'the gateway is shutting down');
      }
      const { target } = state;
      if (target.length > this.deps.config.gateway.limits.maxUrlLength) {
        throw new VigilError('VGL_GATEWAY_URI_TOO_LONG', `the request target is longer than ${this.deps.config.gateway.limits.maxUrlLength} characters`);
      }
      if (target.charCodeAt(0) !== 47 /* '/' */ || hasDotSegment(target)) {
        throw rejectTarget(this.deps, req.method ?? '', target, state.clientIp, requestId);
      }
      const query = target.indexOf('?');
      const table = this.table;
      const pathname = query === -1 ? target : target.slice(0, query);
      const entry: RouteEntry | undefined = table.match(pathname, req.headers.host, req.method ?? '');
      if (entry) state.table = table;
      if (!entry) throw noRoute(table, pathname, req, res);
      const { route, stages, upstreams } = entry;
      state.route = route;
      state.span?.route(route.name);
      this.upstreamMetrics.inFlightDelta(route.name, 1);
      const ctx: GatewayContext = { req, res, requestId, route, target, startedAt: state.startedAt, clientIp: state.clientIp, peerIp: state.peerIp, tls: this.tls, key: null, caller: null, span: state.span, upstream: null, connectMs: -1, ttfbMs: -1, upstreamMs: -1 };
      state.ctx = ctx;
      for (const stage of stages) {
        const pending = stage(ctx);
        if (pending) await pending;
        // A stage that answered the request itself (a CORS preflight) ends it here.
        if (res.writableEnded) return;
      }
      const prior = table.priorForwarding(state.peerIp, req.headers);
      if (upgrade) {
        await tunnel(ctx, upstreams, prior, upgrade.socket, upgrade.head);
        state.upgraded = true;
      } else {
        await forward(ctx, upstreams, this.upstreamMetrics, prior);
      }
    } catch (err) {
      state.errorCode = this.reject(res, err, requestId, state.ctx);
    }
  }

  private reject(res: ServerResponse, err: unknown, requestId: string, ctx?: GatewayContext): ErrorCode {
    const error = isVigilError(err) ? err : new VigilError('VGL_GATEWAY_INTERNAL', 'internal gateway error', { cause: err });
    if (error.code === 'VGL_GATEWAY_INTERNAL') this.deps.logger.error({ err, requestId }, 'unexpected gateway error');
    if (res.headersSent) {
      res.destroy();
    } else if (!res.destroyed) {
      res.setHeader('x-request-id', requestId);
      if (ctx) rejectionHeaders(ctx);
      res.writeHead(error.status, REJECTION_HEADERS);
      res.end(errorBody(error.code, error.message, requestId));
    }
    return error.code;
  }

  private finish(req: IncomingMessage, res: ServerResponse, state: RequestState): void {
    this.inFlight--;
    if (this.activeRequests.get(req.socket) === state) this.activeRequests.delete(req.socket);
    if (this.draining && this.inFlight === 0) this.drained?.();
    const durationMs = performance.now() - state.startedAt;
    // 499: the client closed the connection before the response was complete (nginx's convention).
    const status = state.upgraded ? 101 : res.writableFinished ? res.statusCode : 499;
    const routeName = state.route?.name ?? NO_ROUTE;
    if (state.route) this.upstreamMetrics.inFlightDelta(routeName, -1);
    state.table?.release();
    this.metrics.observe(routeName, req.method ?? 'OTHER', status, durationMs);
    state.span?.end(status, state.errorCode, state.ctx?.key?.id ?? null);
    const record: AccessRecord = {
      at: this.deps.clock.now(),
      requestId: state.requestId,
      route: routeName,
      method: req.method ?? '',
      path: state.target.length > 2048 ? state.target.slice(0, 2048) : state.target,
      status,
      durationMs: Math.round(durationMs * 1000) / 1000,
      clientIp: state.clientIp,
      keyId: state.ctx?.key?.id ?? null,
      errorCode: state.errorCode,
      upstream: state.ctx?.upstream ?? null,
      connectMs: ms(state.ctx?.connectMs),
      ttfbMs: ms(state.ctx?.ttfbMs),
      upstreamMs: ms(state.ctx?.upstreamMs),
    };
    if (this.deps.config.log.accessLog) this.logAccess(record, req);
    this.deps.onAccess(record);
  }

  /**
   * The caller-controlled fields (path and query, request ID) and the client address are scrubbed
   * and masked one by one; the line itself still goes through the secret scrubber. The stored
   * record stays as it is; a copy is logged only when masking changed something.
   */
  private logAccess(record: AccessRecord, req: IncomingMessage): void {
    const { scrub, write } = this.accessLog;
    const path = scrub(record.path);
    // A request ID Vigil generated (a UUID) carries nothing of the caller's; one the caller sent may.
    const sent = req.headers['x-request-id'] ?? req.headers['x-correlation-id'];
    const requestId = sent === undefined ? record.requestId : scrub(record.requestId);
    const clientIp = scrub(record.clientIp);
    const logged = path === record.path && requestId === record.requestId && clientIp === record.clientIp ? record : { ...record, path, requestId, clientIp };
    write(logged);
  }
}

/** A timing for the access record, to the microsecond; null when that phase was not reached. */
function ms(value: number | undefined): number | null {
  return value === undefined || value < 0 ? null : Math.round(value * 1000) / 1000;
}

/** 405 with `Allow` when routes take the path with other methods, else 404. */
function noRoute(table: RouteTable, pathname: string, req: IncomingMessage, res: ServerResponse): VigilError {
  const allowed = table.allowedMethods(pathname, req.headers.host);
  if (allowed.length === 0) return new VigilError('VGL_GATEWAY_NO_ROUTE', 'no route matches this host and path');
  res.setHeader('allow', allowed.join(', '));
  return new VigilError('VGL_GATEWAY_METHOD_NOT_ALLOWED', `${req.method ?? ''} is not served on this path; allowed: ${allowed.join(', ')}`);
}

/** The route's security headers, and its CORS headers so a browser can read the error (not on a refused preflight). */
function rejectionHeaders(ctx: GatewayContext): void {
  const { res, route, responseHeaders } = ctx;
  if (responseHeaders) for (let i = 0; i < responseHeaders.length; i += 2) res.setHeader(responseHeaders[i] as string, responseHeaders[i + 1] as string);
  for (const [name, value] of securityHeaderList(route.securityHeaders, ctx.tls)) res.setHeader(name, value);
  if (route.cors && !isPreflight(ctx)) {
    const out: OutgoingHttpHeaders = {};
    applyCorsHeaders(out, route.cors, ctx.req.headers.origin);
    for (const [name, value] of Object.entries(out)) if (value !== undefined) res.setHeader(name, value);
  }
}
