import { request } from 'undici';
import type { Dispatcher } from 'undici';
import { VigilError } from '../../core/errors.js';
import { describeRequestFailure } from '../../monitor/http-request.js';

/** Bytes of a receiver's answer read before the connection is released; the body itself is ignored. */
const BODY_LIMIT = 16 * 1024;

export interface JsonPost {
  /** `webhook ops`: how errors name the receiver. Never the URL, which may carry a token. */
  what: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  dispatcher: Dispatcher;
  signal: AbortSignal;
}

/** POSTs JSON; any 2xx is success, anything else a VGL_NOTIFY_FAILED whose message holds no secret. */
export async function postJson(post: JsonPost): Promise<void> {
  const timeout = AbortSignal.timeout(post.timeoutMs);
  const combined = AbortSignal.any([post.signal, timeout]);
  let status: number;
  try {
    const res = await request(post.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'vigil-alerting', ...post.headers },
      body: post.body,
      dispatcher: post.dispatcher,
      signal: combined,
    });
    status = res.statusCode;
    await res.body.dump({ limit: BODY_LIMIT, signal: combined }).catch(() => undefined);
  } catch (err) {
    const detail = timeout.aborted ? `timed out after ${post.timeoutMs}ms` : post.signal.aborted ? 'cancelled' : describeRequestFailure(err);
    throw new VigilError('VGL_NOTIFY_FAILED', `${post.what}: ${detail}`);
  }
  if (status < 200 || status > 299) throw new VigilError('VGL_NOTIFY_FAILED', `${post.what}: status ${status}`);
}
