import { setTimeout as sleep } from 'node:timers/promises';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { VigilError } from '../core/errors.js';
import type { PriorForwarding } from './client-address.js';
import type { GatewayContext } from './context.js';
import { openTransforms, transformError } from './body-transform.js';
import type { BodyTransform } from './body-transform.js';
import { requestHeaders } from './headers.js';
import { ResponseRelay } from './relay.js';
import type { AttemptResult } from './relay.js';
import { upstreamPath } from './router.js';
import { failedBeforeSending, timedOut, upstreamError } from './upstream-errors.js';
import type { UpstreamMetrics } from './upstream-metrics.js';
import type { RouteUpstreams } from './upstream/route-upstreams.js';
import type { UpstreamTarget } from './upstream/target.js';

export { upstreamError } from './upstream-errors.js';

/** Methods that may be repeated without changing the outcome (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

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
 * The request body as it goes upstream when it cannot be `req` itself: a chunked body is counted as
 * it streams and cut at the limit (`max` > 0), and the route's body transforms run over it. One
 * Transform either way, not a 'data' listener on req: that would switch req to flowing mode and drop
 * the chunks that arrive before undici starts reading.
 */
function streamedBody(ctx: GatewayContext, max: number, transform: BodyTransform | undefined, onTooLarge: () => void, onRejected: (err: VigilError) => void): Readable {
  let received = 0;
  let stopped = false;
  return ctx.req.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        if (stopped) return callback();
        received += chunk.length;
        if (max > 0 && received > max) {
          stopped = true;
          onTooLarge();
          return callback();
        }
        if (!transform) return callback(null, chunk);
        try {
          const out = transform.push(chunk);
          callback(null, out.length > 0 ? out : undefined);
        } catch (err) {
          stopped = true;
          onRejected(transformError(err));
          callback();
        }
      },
      flush(callback) {
        if (stopped || !transform) return callback();
        try {
          const out = transform.end();
          callback(null, out.length > 0 ? out : undefined);
        } catch (err) {
          stopped = true;
          onRejected(transformError(err));
          callback();
        }
      },
    }),
  );
}

/** The coded error for an attempt that failed before anything reached the client. */
function attemptError(ctx: GatewayContext, result: Extract<AttemptResult, { kind: 'failed' }>): VigilError {
  if (result.cut === 'body-rejected') {
    // The rest of the request body is not read, so the connection cannot be reused.
    if (!ctx.req.complete) ctx.res.setHeader('connection', 'close');
    return transformError(result.error);
  }
  if (result.cut === 'body-too-large') {
    ctx.res.setHeader('connection', 'close');
    return new VigilError('VGL_GATEWAY_BODY_TOO_LARGE', `the request body exceeds ${ctx.route.maxBodyBytes} bytes`);
  }
  if (result.cut === 'total-timeout') return new VigilError('VGL_GATEWAY_UPSTREAM_TIMEOUT', 'the upstream exchange exceeded the route total timeout');
  return upstreamError(result.error);
}

/**
 * Forwards the request and streams the response back without buffering either body, choosing a
 * target per attempt and retrying where it is safe: before any response byte reached the client,
 * within the route's attempts and retry budget, and only when repeating cannot do harm (the
 * connection failed before any byte was sent, or an idempotent request without a body, or the
 * route opted in). A client that goes away aborts the upstream request at once, so an abandoned LLM
 * call stops costing money. Resolves when the exchange is over; rejects with the coded error.
 */
export async function forward(ctx: GatewayContext, upstreams: RouteUpstreams, metrics: UpstreamMetrics, prior: PriorForwarding | undefined): Promise<void> {
  const { req, res, route } = ctx;
  const { hasBody, length } = declaredBody(ctx);
  const max = route.maxBodyBytes;
  if (max > 0 && length !== undefined && length > max) {
    // The body is not read, so the connection cannot be reused for a next request.
    res.setHeader('connection', 'close');
    throw new VigilError('VGL_GATEWAY_BODY_TOO_LARGE', `the request body exceeds ${max} bytes`);
  }
  // Authenticated, routed and within limits: now the client may send the body it announced.
  if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
  const { retry } = route.config.upstreams;
  const total = route.config.timeouts.total;
  const deadline = total > 0 ? ctx.startedAt + total : Infinity;
  const method = req.method as Dispatcher.HttpMethod;
  const replayable = (IDEMPOTENT.has(method) && !hasBody) || (retry.nonIdempotent && !hasBody);
  let relay: ResponseRelay | undefined;
  let clientGone = false;
  res.once('close', () => {
    if (res.writableFinished) return;
    clientGone = true;
    relay?.abort('client-gone');
  });
  const transform = hasBody && ctx.requestBodyTransforms ? openTransforms(ctx, req.headers, ctx.requestBodyTransforms) : undefined;
  const limit = length === undefined ? max : 0;
  const body: Readable | null = !hasBody
    ? null
    : limit > 0 || transform
      ? streamedBody(ctx, limit, transform, () => relay?.abort('body-too-large'), (err) => relay?.abort('body-rejected', err))
      : req;
  upstreams.budget.onRequest();
  let previous: UpstreamTarget | undefined;
  for (let attempt = 0; ; attempt++) {
    const target = upstreams.pick(previous);
    if (!target) throw new VigilError('VGL_GATEWAY_NO_HEALTHY_TARGET', 'no healthy upstream target: every target is ejected (circuit open) or failing its health check');
    const canRetry = (): boolean => attempt < retry.attempts && !clientGone && upstreams.budget.tryRetry();
    const result = await attemptOnce(ctx, target, body, transform !== undefined && transform.keepsLength !== true, prior, deadline, (r) => (relay = r), replayable ? canRetry : () => false, attempt);
    if (result.kind !== 'failed') return;
    if (clientGone) return;
    // A response timeout is not retried: the upstream may still be working on it, and a retry
    // would multiply the wait the route's timeout is meant to bound.
    const safe = (replayable && !timedOut(result.error)) || failedBeforeSending(result.error) || result.cut === 'retry';
    if (result.cut === 'body-too-large' || result.cut === 'body-rejected' || result.cut === 'total-timeout' || !safe || (result.cut !== 'retry' && !canRetry())) {
      throw attemptError(ctx, result);
    }
    metrics.retried(route.name);
    // Exponential backoff with full jitter, so clients retrying together do not arrive together.
    await sleep(Math.random() * Math.min(retry.maxBackoff, retry.backoff * 2 ** attempt));
    previous = target;
  }
}

/** One try against one target; the relay tells the breaker, load and metrics its outcome. */
function attemptOnce(
  ctx: GatewayContext,
  target: UpstreamTarget,
  body: Readable | null,
  /** The body's length changes on the way: the client's Content-Length is not forwarded. */
  transformed: boolean,
  /** What trusted proxies said before Vigil (undefined: the peer is not one). */
  prior: PriorForwarding | undefined,
  deadline: number,
  setRelay: (relay: ResponseRelay) => void,
  canRetry: () => boolean,
  attempt: number,
): Promise<AttemptResult> {
  const { route } = ctx;
  const path = upstreamPath(route, target.basePath, ctx.target);
  const span = ctx.span?.attempt(ctx.req.method ?? 'GET', target.origin, target.host, path, attempt);
  return new Promise<AttemptResult>((resolve) => {
    const relay = new ResponseRelay(ctx, target, span, deadline, canRetry, resolve);
    setRelay(relay);
    target.pool.dispatch(
      {
        path,
        method: ctx.req.method as Dispatcher.HttpMethod,
        headers: requestHeaders(ctx, prior, target.host, span?.traceparent, transformed),
        body,
        headersTimeout: route.config.timeouts.response,
        bodyTimeout: route.config.timeouts.idle,
      },
      relay,
    );
  });
}
