import type { ReceiverConfig } from '../../config/schema.js';
import type { Delivery, Notifier, NotifierDeps, NotifierFactory } from '../notifier.js';
import type { NotificationPayloadV2 } from '../payload.js';
import { noticeText, noticeTitle } from '../payload.js';
import { postJson } from './http.js';

type DiscordConfig = Extract<ReceiverConfig, { type: 'discord' }>;

const COLOURS = { critical: 0xd92d20, warning: 0xf79009, info: 0x2e90fa, resolved: 0x12b76a };

/** Discord's webhook body: short `content` plus one embed (title ≤ 256, description ≤ 4096 characters). */
export function discordMessage(p: NotificationPayloadV2, username: string | undefined): Record<string, unknown> {
  const firing = p.alerts.filter((a) => a.status === 'firing');
  const colour =
    firing.length === 0 ? COLOURS.resolved
    : firing.some((a) => a.severity === 'critical') ? COLOURS.critical
    : firing.some((a) => a.severity === 'warning') ? COLOURS.warning
    : COLOURS.info;
  return {
    ...(username === undefined ? {} : { username }),
    content: noticeTitle(p).slice(0, 2000),
    embeds: [{ title: noticeTitle(p).slice(0, 256), description: noticeText(p).slice(0, 4000), color: colour, timestamp: p.sentAt }],
    allowed_mentions: { parse: [] },
  };
}

export class DiscordNotifier implements Notifier {
  readonly receiver: string;

  constructor(private readonly config: DiscordConfig, private readonly deps: NotifierDeps) {
    this.receiver = config.name;
  }

  send(delivery: Delivery, signal: AbortSignal): Promise<void> {
    const payload = JSON.parse(delivery.payload) as NotificationPayloadV2;
    return postJson({
      what: `discord ${this.receiver}`,
      url: this.config.url,
      headers: {},
      body: JSON.stringify(discordMessage(payload, this.config.username)),
      timeoutMs: this.config.timeout,
      dispatcher: this.deps.dispatcher,
      signal,
    });
  }
}

export const createDiscordNotifier: NotifierFactory<'discord'> = (config, deps) => new DiscordNotifier(config, deps);
