import type { ReceiverConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { isVigilError } from '../core/errors.js';
import { describeRequestFailure } from '../monitor/http-request.js';
import type { Notification } from '../store/records.js';
import type { AlertLogRepository, OutboxRepository } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';
import type { Notifier } from './notifier.js';
import { settledBy } from '../core/lifecycle.js';

export interface RetryPolicy {
  /** Delay ceiling after the first failure; doubles per failure. */
  baseMs: number;
  capMs: number;
}

export interface OutboxWorkerOptions {
  /** Longest wait between two looks at the outbox; enqueues and due retries wake it sooner. */
  pollMs: number;
  batchSize: number;
  retry: RetryPolicy;
  random: () => number;
}

export const DEFAULT_OUTBOX_OPTIONS: OutboxWorkerOptions = {
  pollMs: 1000,
  batchSize: 100,
  retry: { baseMs: 1000, capMs: 300_000 },
  random: Math.random,
};

export type DeliveryOutcome = 'delivered' | 'failed' | 'expired';

export interface Receiver {
  config: ReceiverConfig;
  notifier: Notifier;
}

export interface OutboxWorkerDeps {
  outbox: OutboxRepository;
  receivers: ReadonlyMap<string, Receiver>;
  clock: Clock;
  logger: Logger;
  onOutcome?: (receiver: string, outcome: DeliveryOutcome) => void;
  /** Where every attempt is recorded, for the delivery history. */
  attempts?: AlertLogRepository;
}

/**
 * Exponential backoff with jitter: the n-th failure waits between half and all of
 * min(cap, base·2^(n-1)), so receivers coming back are not hit by every sender at once.
 */
export function retryDelay(failures: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Delivers the outbox. A notification leaves it only as delivered (2xx) or expired (older than the
 * receiver's `maxAge`); anything else is retried with backoff, across restarts. Delivery is
 * at-least-once: a send that the receiver got but Vigil could not record is sent again.
 */
export class OutboxWorker {
  private readonly options: OutboxWorkerOptions;
  private readonly shutdown = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private passing: Promise<void> | undefined;
  private again = false;

  constructor(private readonly deps: OutboxWorkerDeps, options: Partial<OutboxWorkerOptions> = {}) {
    this.options = { ...DEFAULT_OUTBOX_OPTIONS, ...options };
  }

  start(): void {
    this.schedule(0);
  }

  /** Looks at the outbox now (after the current pass, if one is running). */
  wake(): void {
    if (this.passing) this.again = true;
    else this.schedule(0);
  }

  /** Stops polling and aborts sends in flight; an aborted send stays pending and is retried after the restart. */
  async stop(deadline: number): Promise<void> {
    this.shutdown.abort();
    clearTimeout(this.timer);
    if (this.passing) await settledBy(this.passing, deadline);
  }

  private schedule(delayMs: number): void {
    if (this.shutdown.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.runPass(), Math.max(0, delayMs));
    this.timer.unref();
  }

  private runPass(): void {
    if (this.passing) {
      this.again = true;
      return;
    }
    let nextDelay = this.options.pollMs;
    this.passing = this.pass()
      .then((retryIn) => {
        if (retryIn !== undefined) nextDelay = Math.min(nextDelay, retryIn);
      })
      .catch((err: unknown) => this.deps.logger.error({ err }, 'outbox pass failed'))
      .finally(() => {
        this.passing = undefined;
        if (this.again) nextDelay = 0;
        this.again = false;
        this.schedule(nextDelay);
      });
  }

  /** One look at the outbox. Returns how soon the earliest retry it scheduled falls due. */
  private async pass(): Promise<number | undefined> {
    const due = await this.deps.outbox.due(this.deps.clock.now(), this.options.batchSize);
    const byReceiver = new Map<string, Notification[]>();
    for (const n of due) byReceiver.set(n.receiver, [...(byReceiver.get(n.receiver) ?? []), n]);
    let earliestRetry: number | undefined;
    await Promise.all(
      [...byReceiver.values()].map(async (queue) => {
        // In order per receiver, and nothing about an alert overtakes an earlier notice about it:
        // a receiver must never see `resolved` before `firing`.
        const held = new Set<string>();
        for (const n of queue) {
          if (this.shutdown.signal.aborted) return;
          if (held.has(n.alertId) || (await this.waitsForEarlier(n))) {
            held.add(n.alertId);
            continue;
          }
          const retryAt = await this.deliver(n);
          if (retryAt !== undefined) {
            held.add(n.alertId);
            earliestRetry = Math.min(earliestRetry ?? retryAt, retryAt);
          }
        }
      }),
    );
    return earliestRetry === undefined ? undefined : earliestRetry - this.deps.clock.now();
  }

  private async waitsForEarlier(n: Notification): Promise<boolean> {
    if (n.kind !== 'resolved') return false;
    const all = await this.deps.outbox.list(n.alertId);
    return all.some((o) => o.id < n.id && o.receiver === n.receiver && o.state === 'pending');
  }

  /** Sends one notification and records the outcome; returns the retry time when it failed. */
  private async deliver(n: Notification): Promise<number | undefined> {
    const { outbox, clock } = this.deps;
    const log = this.deps.logger.child({ notification: n.id, alert: n.alertId, receiver: n.receiver, kind: n.kind });
    const receiver = this.deps.receivers.get(n.receiver);
    if (receiver === undefined) {
      await outbox.markExpired(n.id, 'receiver is no longer configured');
      await this.record(n, 'expired', 'receiver is no longer configured');
      log.warn('notification dropped: its receiver is no longer configured');
      this.deps.onOutcome?.(n.receiver, 'expired');
      return undefined;
    }
    if (clock.now() - n.createdAt > receiver.config.maxAge) return this.expire(n, receiver, n.lastError ?? 'never attempted', log);
    const attempt = n.attempts + 1;
    try {
      await receiver.notifier.send({ notificationId: n.id, attempt, payload: n.payload }, this.shutdown.signal);
    } catch (err) {
      if (this.shutdown.signal.aborted) return undefined;
      const detail = isVigilError(err) ? err.message : describeRequestFailure(err);
      if (clock.now() - n.createdAt >= receiver.config.maxAge) return this.expire(n, receiver, detail, log);
      const retryAt = clock.now() + retryDelay(attempt, this.options.retry, this.options.random);
      await outbox.markFailed(n.id, detail, retryAt);
      await this.record(n, 'failed', detail);
      log.warn({ attempt, error: detail, retryInMs: retryAt - clock.now() }, 'notification delivery failed; will retry');
      this.deps.onOutcome?.(n.receiver, 'failed');
      return retryAt;
    }
    await outbox.markDelivered(n.id, clock.now());
    await this.record(n, 'delivered', null);
    log.info({ attempt }, 'notification delivered');
    this.deps.onOutcome?.(n.receiver, 'delivered');
    return undefined;
  }

  private async record(n: Notification, outcome: DeliveryOutcome, error: string | null): Promise<void> {
    await this.deps.attempts?.recordAttempt({ notificationId: n.id, receiver: n.receiver, attempt: n.attempts + 1, at: this.deps.clock.now(), outcome, error });
  }

  private async expire(n: Notification, receiver: Receiver, detail: string, log: Logger): Promise<undefined> {
    const error = `not delivered within maxAge ${formatDuration(receiver.config.maxAge)}: ${detail}`;
    await this.deps.outbox.markExpired(n.id, error);
    await this.record(n, 'expired', error);
    log.error({ attempts: n.attempts + 1, error }, 'notification expired undelivered');
    this.deps.onOutcome?.(n.receiver, 'expired');
    return undefined;
  }
}
