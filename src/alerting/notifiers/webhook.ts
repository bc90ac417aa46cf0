import { createHmac } from 'node:crypto';
import { splitUrlCredentials } from '../../monitor/http-request.js';
import type { Delivery, Notifier, NotifierDeps, NotifierFactory } from '../notifier.js';
import type { ReceiverConfig } from '../../config/schema.js';
import { postJson } from './http.js';

type WebhookConfig = Extract<ReceiverConfig, { type: 'webhook' }>;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: what `X-Vigil-Signature` carries. */
export function webhookSignature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** POSTs the notification's JSON (payload version 2) to a URL; any 2xx answer counts as delivered. */
export class WebhookNotifier implements Notifier {
  readonly receiver: string;
  private readonly url: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly config: WebhookConfig, private readonly deps: NotifierDeps, private readonly now: () => number = Date.now) {
    this.receiver = config.name;
    const { url, authorization } = splitUrlCredentials(config.url);
    this.url = url;
    this.headers = {
      ...(authorization === undefined ? {} : { authorization }),
      // The operator's headers win: they may carry the receiver's own authorization.
      ...config.headers,
    };
  }

  send(delivery: Delivery, signal: AbortSignal): Promise<void> {
    const signature: Record<string, string> = this.config.secret === undefined ? {} : { 'x-vigil-signature': webhookSignature(this.config.secret, delivery.payload, Math.floor(this.now() / 1000)) };
    return postJson({
      what: `webhook ${this.receiver}`,
      url: this.url,
      headers: {
        ...this.headers,
        ...signature,
        'x-vigil-notification-id': String(delivery.notificationId),
        'x-vigil-attempt': String(delivery.attempt),
      },
      body: delivery.payload,
      timeoutMs: this.config.timeout,
      dispatcher: this.deps.dispatcher,
      signal,
    });
  }
}

export const createWebhookNotifier: NotifierFactory<'webhook'> = (config, deps) => new WebhookNotifier(config, deps);
