import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import type { HttpCheckConfig } from '../../config/schema.js';
import type { Check, CheckDeps, CheckFactory, CheckOutcome } from '../check.js';
import { describeRequestFailure, splitUrlCredentials } from '../http-request.js';

/** Bytes of response body read (and discarded) so the connection can be reused; the rest is cut. */
const BODY_LIMIT = 64 * 1024;

/**
 * Requests a URL and counts it up when the status is in `expectStatus`. Latency is the time to the
 * response headers: that is what a caller waits for before anything happens.
 */
export class HttpCheck implements Check {
  readonly type = 'http';
  readonly name: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly readiness: boolean;
  private readonly url: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly config: HttpCheckConfig, private readonly deps: CheckDeps) {
    this.name = config.name;
    this.intervalMs = config.interval;
    this.timeoutMs = config.timeout;
    this.readiness = config.readiness;
    const { url, authorization } = splitUrlCredentials(config.url);
    this.url = url;
    this.headers = { 'user-agent': 'vigil-monitor', ...(authorization === undefined ? {} : { authorization }) };
  }

  async run(signal: AbortSignal): Promise<CheckOutcome> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    const started = performance.now();
    try {
      const res = await request(this.url, {
        method: this.config.method,
        headers: this.headers,
        dispatcher: this.deps.dispatcher,
        signal: combined,
      });
      const latencyMs = performance.now() - started;
      await res.body.dump({ limit: BODY_LIMIT, signal: combined }).catch(() => undefined);
      const expected = this.config.expectStatus;
      if (expected.includes(res.statusCode)) return { status: 'up', latencyMs, detail: `status ${res.statusCode}` };
      return { status: 'down', latencyMs, detail: `status ${res.statusCode} not in [${expected.join(', ')}]` };
    } catch (err) {
      const latencyMs = performance.now() - started;
      if (timeout.aborted) return { status: 'down', latencyMs, detail: `timed out after ${this.timeoutMs}ms` };
      if (signal.aborted) return { status: 'down', latencyMs, detail: 'cancelled' };
      return { status: 'down', latencyMs, detail: describeRequestFailure(err) };
    }
  }
}

export const createHttpCheck: CheckFactory<'http'> = (config, deps) => new HttpCheck(config, deps);
