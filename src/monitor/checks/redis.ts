import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { CheckConfig } from '../../config/schema.js';
import { ConfiguredCheck } from '../check.js';
import type { CheckFactory, CheckOutcome } from '../check.js';
import { describeRequestFailure } from '../http-request.js';
import { down, judge } from '../outcome.js';

type RedisConfig = Extract<CheckConfig, { type: 'redis' }>;

/** How long the deep check's scratch key lives: long enough to read back, short enough to leave nothing behind. */
const PROBE_TTL_SECONDS = 60;

/**
 * Connects, sends PING and, with `deep`, SETs a scratch key and GETs it back. A fresh connection per
 * run without retries or an offline queue, so a dead server fails the run at once instead of
 * queueing commands. Details carry the error code or the Redis error kind, never the URL.
 */
export class RedisCheck extends ConfiguredCheck<'redis'> {
  readonly type = 'redis';

  constructor(config: RedisConfig) {
    super(config);
  }

  async run(signal: AbortSignal): Promise<CheckOutcome> {
    const started = performance.now();
    const client = new Redis(this.config.url, {
      lazyConnect: true,
      connectTimeout: this.config.timeout,
      commandTimeout: this.config.timeout,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      connectionName: 'vigil-monitor',
    });
    // connect() rejects with a bare "Connection is closed"; the socket's real error arrives here first.
    let socketError: unknown;
    client.on('error', (err: unknown) => {
      socketError ??= err;
    });
    // ioredis settles a connection that is cut while waiting for "ready" only seconds later, so
    // the timeout and the abort answer on their own and the client is dropped.
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const guard = new Promise<CheckOutcome>((resolve) => {
      timer = setTimeout(() => resolve(down(performance.now() - started, `timed out after ${this.config.timeout}ms`)), this.config.timeout);
      onAbort = () => resolve(down(performance.now() - started, 'cancelled'));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const work = this.talk(client, started).catch((err: unknown) =>
      down(performance.now() - started, describeRedisFailure(socketError !== undefined && (err as Error).name !== 'ReplyError' ? socketError : err, this.config.timeout)),
    );
    try {
      return await Promise.race([work, guard]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
      client.disconnect();
    }
  }

  private async talk(client: Redis, started: number): Promise<CheckOutcome> {
    await client.connect();
    const pong = await client.ping();
    if (pong !== 'PONG') return down(performance.now() - started, 'PING did not answer PONG');
    if (this.config.deep) {
      const key = `vigil:monitor:probe:${this.name}`;
      const token = `${Date.now()}:${Math.random()}`;
      await client.set(key, token, 'EX', PROBE_TTL_SECONDS);
      if ((await client.get(key)) !== token) return down(performance.now() - started, 'deep check read back a different value than it wrote');
    }
    return judge(this.config.conditions, {}, performance.now() - started, this.config.deep ? 'PING, write and read ok' : 'PING ok');
  }
}

function describeRedisFailure(err: unknown, timeoutMs: number): string {
  const message = err instanceof Error ? err.message : '';
  // A Redis error reply starts with its kind in capitals (NOAUTH, WRONGPASS, READONLY, OOM…); the rest may quote data.
  const kind = /^([A-Z]{2,20})\b/.exec(message)?.[1];
  if (err instanceof Error && err.name === 'ReplyError' && kind !== undefined) return `Redis error (${kind})`;
  if (/timed? ?out/i.test(message)) return `timed out after ${timeoutMs}ms`;
  return describeRequestFailure(err);
}

export const createRedisCheck: CheckFactory<'redis'> = (config) => new RedisCheck(config);
