import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import { errorBody, isVigilError, VigilError } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';
import type { Component } from '../core/lifecycle.js';
import type { VigilConfig } from '../config/schema.js';
import type { KeyCache } from '../identity/api-keys.js';
import type { AccessRecord } from '../store/records.js';
import { requestContext, requestIdFrom } from '../telemetry/context.js';
import type { Logger } from '../telemetry/logger.js';
import type { GatewayContext, Stage } from './context.js';
import { GatewayMetrics } from './metrics.js';
import { forward, UpstreamPools } from './proxy.js';
import type { CompiledRoute } from './router.js';
import { hasDotSegment, Router } from './router.js';
import { authenticate } from './stages/authenticate.js';
import { authorize } from './stages/authorize.js';
import { listen } from '../core/listen.js';

export interface GatewayDeps {
  config: VigilConfig;
  keys: KeyCache;
  logger: Logger;
  registry: Registry;
  clock: Clock;
  onAccess: (record: AccessRecord) => void;
}

const NO_ROUTE = '(none)';

/** What the access record needs, filled in as the request passes the pipeline. */
interface RequestState {
  readonly requestId: string;
  readonly target: string;
  readonly clientIp: string;
  readonly startedAt: number;
  route: CompiledRoute | undefined;
  ctx: GatewayContext | undefined;
  errorCode: ErrorCode | null;
}
const REJECTION_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** The data-plane listener: route, run the route's stages, forward, record. */
export class GatewayServer implements Component {
  readonly name = 'gateway';
  private readonly server: Server;
  private readonly router: Router;
  private readonly pipelines: Map<string, Stage[]>;
  private readonly pools = new UpstreamPools();
  private readonly metrics: GatewayMetrics;
  private inFlight = 0;
  private draining = false;
  private drained: (() => void) | undefined;

  constructor(private readonly deps: GatewayDeps) {
    this.router = new Router(deps.config.gateway.routes);
    this.pipelines = new Map(this.router.all.map((route) => [route.name, compilePipeline(route, deps)]));
    this.metrics = new GatewayMetrics(deps.registry);
    this.server = createServer(
      {
        maxHeaderSize: deps.config.gateway.maxHeaderBytes,
        requestTimeout: 0,
        headersTimeout: 30_000,
        keepAliveTimeout: 5000,
      },
      (req, res) => this.handle(req, res),
    );
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
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
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      const drained = new Promise<void>((resolve) => (this.drained = resolve));
      const timedOut = await Promise.race([
        drained.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), Math.max(0, deadline - Date.now())).unref()),
      ]);
      if (timedOut) {
        this.deps.logger.warn({ inFlight: this.inFlight, code: 'VGL_SHUTDOWN_TIMEOUT' }, 'drain deadline reached; closing remaining connections');
      }
    }
    this.server.closeAllConnections();
    await closed;
    await this.pools.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const requestId = requestIdFrom(req.headers['x-request-id'] ?? req.headers['x-correlation-id']);
    res.setHeader('x-request-id', requestId);
    requestContext.run({ requestId }, () => {
      void this.dispatch(req, res, requestId);
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const state: RequestState = {
      requestId,
      target: req.url ?? '/',
      // Read now: the socket is gone by the time a closed response is recorded.
      clientIp: req.socket.remoteAddress ?? '',
      startedAt: performance.now(),
      route: undefined,
      ctx: undefined,
      errorCode: null,
    };
    this.inFlight++;
    res.once('close', () => this.finish(req, res, state));
    try {
      if (this.draining) {
        res.setHeader('connection', 'close');
        throw new VigilError('VGL_GATEWAY_SHUTTING_DOWN', 'the gateway is shutting down');
      }
      const { target } = state;
      if (target.charCodeAt(0) !== 47 /* '/' */ || hasDotSegment(target)) {
        throw new VigilError('VGL_GATEWAY_BAD_REQUEST', 'the request target must be an absolute path without dot segments');
      }
      const query = target.indexOf('?');
      const route = this.router.match(query === -1 ? target : target.slice(0, query));
      if (!route) throw new VigilError('VGL_GATEWAY_NO_ROUTE', 'no route matches this path');
      state.route = route;
      const ctx: GatewayContext = { req, res, requestId, route, target, startedAt: state.startedAt, clientIp: state.clientIp, key: null };
      state.ctx = ctx;
      for (const stage of this.pipelines.get(route.name) as Stage[]) {
        const pending = stage(ctx);
        if (pending) await pending;
      }
      await forward(ctx, this.pools.get(route));
    } catch (err) {
      state.errorCode = this.reject(res, err, requestId);
    }
  }

  private reject(res: ServerResponse, err: unknown, requestId: string): ErrorCode {
    const error = isVigilError(err) ? err : new VigilError('VGL_GATEWAY_INTERNAL', 'internal gateway error', { cause: err });
    if (error.code === 'VGL_GATEWAY_INTERNAL') this.deps.logger.error({ err }, 'unexpected gateway error');
    if (res.headersSent) {
      res.destroy();
    } else if (!res.destroyed) {
      res.writeHead(error.status, REJECTION_HEADERS);
      res.end(errorBody(error.code, error.message, requestId));
    }
    return error.code;
  }

  private finish(req: IncomingMessage, res: ServerResponse, state: RequestState): void {
    this.inFlight--;
    if (this.draining && this.inFlight === 0) this.drained?.();
    const durationMs = performance.now() - state.startedAt;
    // 499: the client closed the connection before the response was complete (nginx's convention).
    const status = res.writableFinished ? res.statusCode : 499;
    const routeName = state.route?.name ?? NO_ROUTE;
    this.metrics.observe(routeName, req.method ?? 'OTHER', status, durationMs);
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
    };
    if (this.deps.config.log.accessLog) this.deps.logger.info({ access: record }, 'request');
    this.deps.onAccess(record);
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const code: ErrorCode = tooLarge ? 'VGL_GATEWAY_HEADERS_TOO_LARGE' : 'VGL_GATEWAY_BAD_REQUEST';
    const status = tooLarge ? 431 : 400;
    const requestId = requestIdFrom(undefined);
    const body = errorBody(code, tooLarge ? 'request headers are too large' : 'malformed HTTP request', requestId);
    this.deps.logger.info({ code, parserError: err.code, requestId }, 'rejected malformed request');
    socket.end(
      `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `x-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
}

function compilePipeline(route: CompiledRoute, deps: GatewayDeps): Stage[] {
  const stages: Stage[] = [];
  if (route.config.auth === 'apiKey') {
    stages.push(authenticate(deps.keys, deps.clock));
    if (route.config.scopes.length > 0) stages.push(authorize(route.config.scopes));
  }
  return stages;
}
