import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { GatewayContext } from './context.js';
import { responseHeaders } from './headers.js';

/** Why the gateway itself cut an attempt, when it did. */
export type CutReason = 'client-gone' | 'body-too-large' | 'total-timeout' | 'retry';

/** How one attempt ended. */
export type AttemptResult =
  | { readonly kind: 'done' }
  /** Failed before any response byte reached the client: a coded error or a retry is still possible. */
  | { readonly kind: 'failed'; readonly error: Error; readonly cut: CutReason | undefined; readonly status?: number }
  /** Failed after the response started: the client connection was cut. */
  | { readonly kind: 'broken' };

/** Statuses that count as a target failure (breaker) and may be retried before anything is relayed. */
export const FAILURE_STATUS = new Set([502, 503, 504]);

export interface RelayHooks {
  /** Response headers arrived from the target (for latency, breaker and metrics). */
  onHeaders(status: number): void;
  /** Whether a 502/503/504 should be retried instead of relayed. */
  retryStatus(status: number): boolean;
  settle(result: AttemptResult): void;
}

/**
 * Relays one upstream attempt's response straight into the client response as undici delivers it.
 * Written against undici's dispatch handler interface rather than `pool.request()` +
 * `stream.pipeline`: that pair builds an AbortSignal and, at the end of every pipeline, a
 * DOMException with a stack trace — measurably the largest per-request cost after the socket
 * writes (bench/README.md).
 */
export class ResponseRelay implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private cut: CutReason | undefined;
  private settled = false;
  private readonly resumeUpstream = (): void => this.controller?.resume();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly deadline: number,
    private readonly hooks: RelayHooks,
  ) {}

  /** Ends the attempt from the gateway's side (client left, body too large, too slow, retrying). */
  abort(reason: CutReason): void {
    if (this.cut || this.settled) return;
    this.cut = reason;
    this.controller?.abort(new Error(reason));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cut) controller.abort(new Error(this.cut));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx informational answers are not relayed; the final one follows.
    this.hooks.onHeaders(statusCode);
    if (performance.now() > this.deadline) return this.abort('total-timeout');
    const { res } = this.ctx;
    if (res.destroyed) return this.abort('client-gone');
    if (FAILURE_STATUS.has(statusCode) && this.hooks.retryStatus(statusCode)) {
      this.cut = 'retry';
      this.controller?.abort(new Error(`upstream answered ${statusCode}`));
      return;
    }
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
    this.settle({ kind: 'done' });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const { res } = this.ctx;
    if (res.headersSent || this.cut === 'client-gone' || res.destroyed) {
      // The status is already sent (or nobody listens), so the only honest signal left is to cut
      // the connection; the access record notes it.
      if (!res.destroyed) res.destroy();
      return this.settle({ kind: 'broken' });
    }
    this.settle({ kind: 'failed', error, cut: this.cut });
  }

  private settle(result: AttemptResult): void {
    if (this.settled) return;
    this.settled = true;
    this.hooks.settle(result);
  }
}
