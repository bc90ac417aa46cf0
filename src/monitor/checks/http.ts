import { performance } from 'node:perf_hooks';
import { interceptors, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { HttpCheckConfig } from '../../config/schema.js';
import { ConfiguredCheck } from '../check.js';
import type { CheckDeps, CheckFactory, CheckOutcome } from '../check.js';
import { describeRequestFailure, splitUrlCredentials } from '../http-request.js';
import { down, judge } from '../outcome.js';

/** Bytes of response body kept for conditions; beyond it the body is cut and the connection dropped. */
export const BODY_LIMIT = 64 * 1024;

type HttpLikeConfig = Pick<HttpCheckConfig, 'name' | 'interval' | 'timeout' | 'readiness' | 'url' | 'method' | 'headers' | 'body' | 'tlsVerify'>;

export interface HttpResponseSeen {
  status: number;
  latencyMs: number;
  /** At most BODY_LIMIT bytes, decoded as UTF-8. */
  body: string;
}

/**
 * Sends the configured request and reads at most BODY_LIMIT bytes of the answer; shared by the
 * http and json-metric checks. Latency is the time to the response headers.
 */
export class HttpProbe {
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly dispatcher: Dispatcher;

  constructor(private readonly config: HttpLikeConfig, deps: CheckDeps, maxRedirects = 0) {
    const { url, authorization } = splitUrlCredentials(config.url);
    this.url = url;
    this.headers = { 'user-agent': 'vigil-monitor', ...config.headers, ...(authorization === undefined ? {} : { authorization }) };
    const base = config.tlsVerify ? deps.dispatcher : deps.insecureDispatcher;
    this.dispatcher = maxRedirects > 0 ? base.compose(interceptors.redirect({ maxRedirections: maxRedirects })) : base;
  }

  /** The response, or the down outcome explaining why there is none. */
  async send(signal: AbortSignal): Promise<HttpResponseSeen | CheckOutcome> {
    const timeout = AbortSignal.timeout(this.config.timeout);
    const combined = AbortSignal.any([signal, timeout]);
    const started = performance.now();
    try {
      const res = await request(this.url, {
        method: this.config.method,
        headers: this.headers,
        body: this.config.body,
        dispatcher: this.dispatcher,
        signal: combined,
      });
      const latencyMs = performance.now() - started;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= BODY_LIMIT) {
          res.body.destroy();
          break;
        }
      }
      return { status: res.statusCode, latencyMs, body: Buffer.concat(chunks).subarray(0, BODY_LIMIT).toString('utf8') };
    } catch (err) {
      const latencyMs = performance.now() - started;
      if (timeout.aborted) return down(latencyMs, `timed out after ${this.config.timeout}ms`);
      if (signal.aborted) return down(latencyMs, 'cancelled');
      return down(latencyMs, describeRequestFailure(err));
    }
  }
}

export function isResponse(value: HttpResponseSeen | CheckOutcome): value is HttpResponseSeen {
  return !('detail' in value);
}

/**
 * Up when the status is in `expectStatus` and every condition holds (`[STATUS]`, `[BODY]`,
 * `[BODY].json.path`, `[RESPONSE_TIME]`).
 */
export class HttpCheck extends ConfiguredCheck<'http'> {
  readonly type = 'http';
  private readonly probe: HttpProbe;

  constructor(config: HttpCheckConfig, deps: CheckDeps) {
    super(config);
    this.probe = new HttpProbe(config, deps, config.followRedirects ? config.maxRedirects : 0);
  }

  async run(signal: AbortSignal): Promise<CheckOutcome> {
    const seen = await this.probe.send(signal);
    if (!isResponse(seen)) return seen;
    const expected = this.config.expectStatus;
    if (!expected.includes(seen.status)) return down(seen.latencyMs, `status ${seen.status} not in [${expected.join(', ')}]`);
    return judge(this.config.conditions, { STATUS: seen.status, BODY: seen.body }, seen.latencyMs, `status ${seen.status}`);
  }
}

export const createHttpCheck: CheckFactory<'http'> = (config, deps) => new HttpCheck(config, deps);
