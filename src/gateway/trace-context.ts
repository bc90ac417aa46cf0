import { randomFillSync } from 'node:crypto';

/** W3C Trace Context `traceparent` (version 00): version-traceid-parentid-flags, lowercase hex. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

// Random ids come from one pooled buffer refilled every 256 ids: one syscall per 256 requests.
const pool = Buffer.alloc(8 * 256 + 16);
let offset = pool.length;

function randomHex(bytes: 8 | 16): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

/**
 * The `traceparent` sent upstream: the caller's trace continues (same trace id and flags) with the
 * gateway's hop as the new parent id; a missing or malformed header starts a new trace. So traces
 * cross the gateway, and an upstream never sees a caller-chosen parent id as Vigil's.
 */
export function upstreamTraceparent(incoming: string | string[] | undefined): string {
  const match = typeof incoming === 'string' ? TRACEPARENT.exec(incoming) : null;
  if (match && match[1] !== ZERO_TRACE && match[2] !== ZERO_SPAN) return `00-${match[1]}-${randomHex(8)}-${match[3]}`;
  return `00-${randomHex(16)}-${randomHex(8)}-00`;
}
