import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { openTransforms, transformError } from './body-transform.js';
import type { BodyTransform } from './body-transform.js';
import type { GatewayContext } from './context.js';
import { responseHeaders } from './headers.js';
import type { AttemptSpan } from '../telemetry/tracing.js';
import type { UpstreamTarget } from './upstream/target.js';

/** Why the gateway itself cut an attempt, when it did. */
export type CutReason = 'client-gone' | 'body-too-large' | 'body-rejected' | 'total-timeout' | 'retry';

/** How one attempt ended. */
export type AttemptResult =
  | { readonly kind: 'done' }
  /** Failed before any response byte reached the client: a coded error or a retry is still possible. */
  | { readonly kind: 'failed'; readonly error: Error; readonly cut: CutReason | undefined; readonly status?: number }
  /** Failed after the response started: the client connection was cut. */
  | { readonly kind: 'broken' };

/** Statuses that count as a target failure (breaker) and may be retried before anything is relayed. */
export const FAILURE_STATUS = new Set([502, 503, 504]);

/**
 * One upstream attempt: relays the response straight into the client response as undici delivers
 * it, and tells the target (load, latency, breaker), its metrics, the attempt span and the access
 * record's timings how it went. Written against undici's dispatch handler interface rather than
 * `pool.request()` + `stream.pipeline`: that pair builds an AbortSignal and, at the end of every
 * pipeline, a DOMException with a stack trace — measurably the largest per-request cost after the
 * socket writes (bench/README.md). The bookkeeping lives in this one object rather than in
 * per-attempt closures, for the same reason.
 */
export class ResponseRelay implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private cut: CutReason | undefined;
  private settled = false;
  /** The error a body transform rejected the request or response body with. */
  private rejection: Error | undefined;
  /** The route's response body transforms, when it has any and this response has a body. */
  private transform: BodyTransform | undefined;
  /** With a transform, the head waits for the first byte it lets through (so a rejection can still be a coded answer). */
  private pendingHead: OutgoingHttpHeaders | undefined;
  private status = 0;
  /** The target's attempt counter and breaker have heard the outcome. */
  private counted = false;
  private readonly sentAt = performance.now();
  private readonly resumeUpstream = (): void => this.controller?.resume();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly target: UpstreamTarget,
    private readonly span: AttemptSpan | undefined,
    private readonly deadline: number,
    /** Whether a 502/503/504 should be retried instead of relayed. */
    private readonly canRetry: () => boolean,
    private readonly done: (result: AttemptResult) => void,
  ) {
    target.inFlight++;
    ctx.upstream = target.label;
    ctx.connectMs = ctx.ttfbMs = ctx.upstreamMs = -1;
  }

  /** Ends the attempt from the gateway's side (client left, body too large or rejected, too slow, retrying). */
  abort(reason: CutReason, error?: Error): void {
    if (this.cut || this.settled) return;
    this.cut = reason;
    this.rejection = error;
    this.controller?.abort(new Error(reason));
  }

  /** The request got a connected socket and is being written (after any pool wait and connect). */
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    const ms = (this.ctx.connectMs = performance.now() - this.sentAt);
    this.target.series.connect.observe(ms / 1000);
    if (this.cut) controller.abort(new Error(this.cut));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx informational answers are not relayed; the final one follows.
    const now = performance.now();
    const ms = (this.ctx.ttfbMs = now - this.sentAt);
    this.target.observeLatency(ms);
    this.target.series.ttfb.observe(ms / 1000);
    this.span?.response(statusCode);
    this.outcome(FAILURE_STATUS.has(statusCode));
    if (now > this.deadline) return this.abort('total-timeout');
    const { res } = this.ctx;
    if (res.destroyed) return this.abort('client-gone');
    if (FAILURE_STATUS.has(statusCode) && this.canRetry()) {
      this.cut = 'retry';
      this.controller?.abort(new Error(`upstream answered ${statusCode}`));
      return;
    }
    const factories = this.ctx.responseBodyTransforms;
    if (factories && statusCode !== 204 && statusCode !== 304 && this.ctx.req.method !== 'HEAD') {
      try {
        this.transform = openTransforms(this.ctx, headers, factories);
      } catch (err) {
        return this.abort('body-rejected', transformError(err));
      }
      if (this.transform) {
        // The transformed length is unknown until the end: chunked, or an exact length if the whole body was held.
        const out = responseHeaders(this.ctx, headers);
        if (!this.transform.keepsLength) delete out['content-length'];
        this.pendingHead = out;
        this.status = statusCode;
        return;
      }
    }
    res.writeHead(statusCode, responseHeaders(this.ctx, headers));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.deadline !== Infinity && performance.now() > this.deadline) return this.abort('total-timeout');
    if (this.transform) return this.transformed(controller, chunk);
    if (!this.ctx.res.write(chunk)) {
      // The client reads slower than the upstream sends: stop reading upstream until it catches up.
      controller.pause();
      this.ctx.res.once('drain', this.resumeUpstream);
    }
  }

  onResponseEnd(): void {
    const { res } = this.ctx;
    if (this.transform) {
      let rest: Buffer;
      try {
        rest = this.transform.end();
      } catch (err) {
        return this.reject(err, true);
      }
      if (this.pendingHead) {
        if (!this.transform.keepsLength) this.pendingHead['content-length'] = rest.length;
        this.writePendingHead();
      }
      res.end(rest);
    } else {
      res.end();
    }
    this.settle({ kind: 'done' });
  }

  private transformed(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    let out: Buffer;
    try {
      out = (this.transform as BodyTransform).push(chunk);
    } catch (err) {
      return this.reject(err, false);
    }
    if (out.length === 0) return;
    if (this.pendingHead) this.writePendingHead();
    if (!this.ctx.res.write(out)) {
      controller.pause();
      this.ctx.res.once('drain', this.resumeUpstream);
    }
  }

  private writePendingHead(): void {
    const { res } = this.ctx;
    res.writeHead(this.status, this.pendingHead);
    this.pendingHead = undefined;
  }

  /**
   * A response transform rejected the body: before the head went out the client gets the coded
   * error; after, the connection is cut (an unterminated chunked body, which no client takes for a
   * complete one). The upstream request is aborted either way.
   */
  private reject(err: unknown, ended: boolean): void {
    const error = transformError(err);
    // Still streaming: the abort ends in onResponseError, which settles.
    if (!ended) return this.abort('body-rejected', error);
    const { res } = this.ctx;
    if (res.headersSent) {
      res.destroy();
      this.settle({ kind: 'broken' });
    } else {
      this.settle({ kind: 'failed', error, cut: 'body-rejected' });
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const { res } = this.ctx;
    if (res.headersSent || this.cut === 'client-gone' || res.destroyed) {
      // The status is already sent (or nobody listens), so the only honest signal left is to cut
      // the connection; the access record notes it.
      if (!res.destroyed) res.destroy();
      return this.settle({ kind: 'broken' });
    }
    this.settle({ kind: 'failed', error: this.rejection ?? error, cut: this.cut });
  }

  private settle(result: AttemptResult): void {
    if (this.settled) return;
    this.settled = true;
    this.target.inFlight--;
    const ms = (this.ctx.upstreamMs = performance.now() - this.sentAt);
    this.target.series.total.observe(ms / 1000);
    // A cut made by the gateway (client gone, body too large) says nothing about the target.
    if (result.kind === 'failed' && (result.cut === undefined || result.cut === 'total-timeout')) this.outcome(true);
    this.span?.end(attemptFailure(result));
    this.done(result);
  }

  /** The attempt counter and the breaker learn the outcome once: at the response head, or at a failure before it. */
  private outcome(failed: boolean): void {
    if (this.counted) return;
    this.counted = true;
    const { target } = this;
    if (failed) {
      target.series.failure.value++;
      target.breaker.failure();
    } else {
      target.series.success.value++;
      target.breaker.success();
    }
  }
}

/** What an attempt's client span records when the attempt did not complete. */
function attemptFailure(result: AttemptResult): { type: string; message: string } | undefined {
  if (result.kind === 'done') return undefined;
  if (result.kind === 'broken') return { type: 'response_interrupted', message: 'the response was cut after it started' };
  const code = (result.error as { code?: unknown }).code;
  return { type: result.cut ?? (typeof code === 'string' ? code : result.error.name), message: result.error.message };
}
