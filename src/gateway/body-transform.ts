import type { IncomingHttpHeaders } from 'node:http';
import { isVigilError, VigilError } from '../core/errors.js';
import type { GatewayContext } from './context.js';

/**
 * One streaming step over a request or response body, for one request. `push` gets each chunk as
 * it arrives and returns the bytes to pass on now (an empty buffer holds everything back); `end`
 * returns whatever is still held. Either may throw a VigilError to reject the body: before any
 * byte reached the other side that error is the answer, after it the connection is cut.
 */
export interface BodyTransform {
  push(chunk: Buffer): Buffer;
  end(): Buffer;
  /**
   * True for a transform that only inspects: every byte is passed on unchanged (perhaps later), so
   * the body's Content-Length stays valid and is kept. Otherwise the length is dropped.
   */
  readonly keepsLength?: boolean;
}

/**
 * Opens the transform for one body from that body's headers (the request's, or the upstream
 * response's), or returns undefined to leave the body alone (an image, a HEAD answer). It may
 * throw a VigilError to refuse the body outright (e.g. compressed where it must be inspected).
 */
export type BodyTransformFactory = (ctx: GatewayContext, headers: IncomingHttpHeaders) => BodyTransform | undefined;

const EMPTY: Buffer = Buffer.alloc(0);

/** The transforms a body goes through, in list order; undefined when none applies. */
export function openTransforms(ctx: GatewayContext, headers: IncomingHttpHeaders, factories: readonly BodyTransformFactory[]): BodyTransform | undefined {
  const open: BodyTransform[] = [];
  for (const factory of factories) {
    const transform = factory(ctx, headers);
    if (transform) open.push(transform);
  }
  if (open.length === 0) return undefined;
  if (open.length === 1) return open[0];
  return {
    keepsLength: open.every((t) => t.keepsLength === true),
    push(chunk) {
      let out = chunk;
      for (const t of open) {
        out = t.push(out);
        if (out.length === 0) return EMPTY;
      }
      return out;
    },
    end() {
      // Each transform's held bytes still pass through the transforms after it.
      let out: Buffer = EMPTY;
      for (const t of open) out = out.length > 0 ? Buffer.concat([t.push(out), t.end()]) : t.end();
      return out;
    },
  };
}

/** A transform's failure as the coded error the client gets. */
export function transformError(err: unknown): VigilError {
  return isVigilError(err) ? err : new VigilError('VGL_GATEWAY_INTERNAL', 'a body transform failed', { cause: err });
}

/** Adds a transform to a request's request or response body (stages call this; order is kept). */
export function addBodyTransform(ctx: GatewayContext, direction: 'request' | 'response', factory: BodyTransformFactory): void {
  if (direction === 'request') (ctx.requestBodyTransforms ??= []).push(factory);
  else (ctx.responseBodyTransforms ??= []).push(factory);
}
