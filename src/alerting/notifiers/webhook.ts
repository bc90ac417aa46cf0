import { request } from 'undici';
import type { ReceiverConfig } from '../../config/schema.js';
import { VigilError } from '../../core/errors.js';
import { describeRequestFailure, splitUrlCredentials } from '../../monitor/http-request.js';
import type { Delivery, Notifier, NotifierDeps, NotifierFactory } from '../notifier.js';

/** Bytes of a receiver's answer read before the connection is released; the body itself is ignored. */
const BODY_LIMIT = 16 * 1024;

/** POSTs the notification's JSON to a URL; any 2xx answer counts as delivered. */
export class WebhookNotifier implements Notifier {
  readonly receiver: string;
  private readonly url: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly config: ReceiverConfig, private readonly deps: NotifierDeps) {
    this.receiver = config.name;
    const { url, authorization } = splitUrlCredentials(config.url);
    this.url = url;
    this.headers = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'vigil-alerting',
      ...(authorization === undefined ? {} : { authorization }),
      // The operator's headers win: they may carry the receiver's own authorization.
      ...config.headers,
    };
  }

  async send(delivery: Delivery, signal: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(this.config.timeout);
    const combined = AbortSignal.any([signal, timeout]);
    let status: number;
    try {
      const res = await request(this.url, {
        method: 'POST',
        headers: {
          ...this.headers,
          'x-vigil-notification-id': String(delivery.notificationId),
          'x-vigil-attempt': String(delivery.attempt),
        },
        body: delivery.payload,
        dispatcher: this.deps.dispatcher,
        signal: combined,
      });
      status = res.statusCode;
      await res.body.dump({ limit: BODY_LIMIT, signal: combined }).catch(() => undefined);
    } catch (err) {
      const detail = timeout.aborted ? `timed out after ${this.config.timeout}ms` : signal.aborted ? 'cancelled' : describeRequestFailure(err);
      throw new VigilError('VGL_NOTIFY_FAILED', `webhook ${this.receiver}: ${detail}`, { cause: err });
    }
    if (status < 200 || status > 299) throw new VigilError('VGL_NOTIFY_FAILED', `webhook ${this.receiver}: status ${status}`);
  }
}

export const createWebhookNotifier: NotifierFactory<'webhook'> = (config, deps) => new WebhookNotifier(config, deps);
