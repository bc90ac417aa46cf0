import type { ReceiverConfig } from '../../config/schema.js';
import type { Delivery, Notifier, NotifierDeps, NotifierFactory } from '../notifier.js';
import type { NotificationPayloadV2 } from '../payload.js';
import { noticeText, noticeTitle } from '../payload.js';
import { postJson } from './http.js';

type SlackConfig = Extract<ReceiverConfig, { type: 'slack' }>;

/** Slack's incoming-webhook body: `text` (fallback and notifications) plus a header and a section block. */
export function slackMessage(p: NotificationPayloadV2, config: Pick<SlackConfig, 'channel' | 'username'>): Record<string, unknown> {
  const title = noticeTitle(p);
  // Slack caps a section's text at 3000 characters.
  const body = noticeText(p).slice(0, 2900);
  return {
    ...(config.channel === undefined ? {} : { channel: config.channel }),
    ...(config.username === undefined ? {} : { username: config.username }),
    text: `${title}\n${body}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: body || '-' } },
    ],
  };
}

export class SlackNotifier implements Notifier {
  readonly receiver: string;

  constructor(private readonly config: SlackConfig, private readonly deps: NotifierDeps) {
    this.receiver = config.name;
  }

  send(delivery: Delivery, signal: AbortSignal): Promise<void> {
    const payload = JSON.parse(delivery.payload) as NotificationPayloadV2;
    return postJson({
      what: `slack ${this.receiver}`,
      url: this.config.url,
      headers: {},
      body: JSON.stringify(slackMessage(payload, this.config)),
      timeoutMs: this.config.timeout,
      dispatcher: this.deps.dispatcher,
      signal,
    });
  }
}

export const createSlackNotifier: NotifierFactory<'slack'> = (config, deps) => new SlackNotifier(config, deps);
