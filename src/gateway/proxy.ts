import type { IncomingHttpHeaders } from 'node:http';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { Pool, errors as undiciErrors } from 'undici';
import type { Dispatcher } from 'undici';
import { VigilError } from '../core/errors.js';
import type { GatewayContext } from './context.js';
import { requestHeaders, responseHeaders } from './headers.js';
import type { CompiledRoute } from './router.js';
import { upstreamPath } from './router.js';

/** One keep-alive connection pool per route, created lazily and closed on shutdown. */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  get(route: CompiledRoute): Pool {
    let pool = this.pools.get(route.name);
    if (!pool) {
      pool = new Pool(route.origin, {
        connections: 256,
        pipelining: 1,
        keepAliveTimeout: 4000,
        connect: { timeout: route.config.timeouts.connect },
      });
      this.pools.set(route.name, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
  }
}

/** Maps an undici failure to the coded error the client receives. */
export function upstreamError(err: unknown): VigilError {
  if (
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError
  ) {
    return new VigilError('VGL_GATEWAY_UPSTREAM_TIMEOUT', 'the upstream did not answer in time', { cause: err });
  }
  return new VigilError('VGL_GATEWAY_UPSTREAM_UNREACHABLE', 'the upstream could not be reached', { cause: err });
}

/** Why the gateway itself cut the exchange, when it did. */
type CutReason = 'client-gone' | 'body-too-large' | 'total-timeout';

/**
 * Relays the upstream response straight into the client response as undici delivers it. Written
 * against undici's dispatch handler interface rather than `pool.request()` + `stream.pipeline`:
 * that pair builds an AbortSignal and, at the end of every pipeline, a DOMException with a stack
 * trace — measurably the largest per-request cost after the socket writes (bench/README.md).
 */
class ResponseRelay implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private cut: CutReason | undefined;
  private readonly deadline: number;
  private readonly resumeUpstream = (): void => this.controller?.resume();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly done: () => void,
    private readonly fail: (err: VigilError) => void,
  ) {
    const total = ctx.route.config.timeouts.total;
    this.deadline = total > 0 ? ctx.startedAt + total : Infinity;
  }

  /** Ends the upstream exchange from the gateway's side (client left, body too large, too slow). */
  abort(reason: CutReason): void {
    if (this.cut) return;
    this.cut = reason;
    this.controller?.abort(new Error(reason));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cut) controller.abort(new Error(this.cut));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx informational answers are not relayed; the final one follows.
    if (performance.now() > this.deadline) return this.abort('total-timeout');
    const { res } = this.ctx;
    if (res.destroyed) return this.abort('client-gone');
    res.writeHead(statusCode, responseHeaders(this.ctx, headers));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.deadline !== Infinity && performance.now() > this.deadline) return this.abort('total-timeout');
    if (!this.ctx.res.write(chunk)) {
      // The client reads slower than the upstream sends: stop reading upstream until it catches up.
      controller.pause();
      this.ctx.res.once('drain', this.resumeUpstream);
    }
  }

  onResponseEnd(): void {
    this.ctx.res.end();
    this.done();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    const { res } = this.ctx;
    if (this.cut === 'client-gone' || res.destroyed) return this.done();
    if (res.headersSent) {
      // The status is already sent, so the only honest signal left is to cut the connection; the
      // access record notes it.
      res.destroy();
      return this.done();
    }
    if (this.cut === 'body-too-large') {
      res.setHeader('connection', 'close');
      return this.fail(new VigilError('VGL_GATEWAY_BODY_TOO_LARGE', `the request body exceeds ${this.ctx.route.maxBodyBytes} bytes`));
    }
    if (this.cut === 'total-timeout') {
      return this.fail(new VigilError('VGL_GATEWAY_UPSTREAM_TIMEOUT', 'the upstream exchange exceeded the route total timeout'));
    }
    this.fail(upstreamError(err));
  }
}

/** True when the request declares a body (a non-zero Content-Length, or chunked). */
function declaredBody(ctx: GatewayContext): { hasBody: boolean; length: number | undefined } {
  const header = ctx.req.headers['content-length'];
  if (header !== undefined) {
    const length = Number(header);
    return { hasBody: length !== 0, length };
  }
  return { hasBody: ctx.req.headers['transfer-encoding'] !== undefined, length: undefined };
}

/**
 * Forwards the request and streams the response back without buffering either body. A client that
 * goes away aborts the upstream request at once, so an abandoned LLM call stops costing money.
 * Resolves when the exchange is over; rejects (before any response byte) with the coded error.
 */
export function forward(ctx: GatewayContext, pool: Pool, trustedPeer: boolean): Promise<void> {
  const { req, res, route } = ctx;
  const { hasBody, length } = declaredBody(ctx);
  const max = route.maxBodyBytes;
  if (max > 0 && length !== undefined && length > max) {
    // The body is not read, so the connection cannot be reused for a next request.
    res.setHeader('connection', 'close');
    return Promise.reject(new VigilError('VGL_GATEWAY_BODY_TOO_LARGE', `the request body exceeds ${max} bytes`));
  }
  return new Promise<void>((resolve, reject) => {
    const relay = new ResponseRelay(ctx, resolve, reject);
    res.once('close', () => {
      if (!res.writableFinished) relay.abort('client-gone');
    });
    let body: Readable | null = hasBody ? req : null;
    if (hasBody && max > 0 && length === undefined) {
      // A chunked body declares no length: count it as it streams through and cut it at the limit.
      // (A Transform, not a 'data' listener on req: that would switch req to flowing mode and drop
      // the chunks that arrive before undici starts reading.)
      let received = 0;
      body = req.pipe(
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            received += chunk.length;
            if (received > max) {
              relay.abort('body-too-large');
              return callback();
            }
            callback(null, chunk);
          },
        }),
      );
    }
    pool.dispatch(
      {
        path: upstreamPath(route, ctx.target),
        method: req.method as Dispatcher.HttpMethod,
        headers: requestHeaders(ctx, trustedPeer),
        body,
        headersTimeout: route.config.timeouts.response,
        bodyTimeout: route.config.timeouts.idle,
      },
      relay,
    );
  });
}
