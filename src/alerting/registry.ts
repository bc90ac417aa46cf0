import type { ReceiverConfig } from '../config/schema.js';
import type { Notifier, NotifierDeps, NotifierFactory, ReceiverType } from './notifier.js';
import { createAlertmanagerNotifier } from './notifiers/alertmanager.js';
import { createDiscordNotifier } from './notifiers/discord.js';
import { createEmailNotifier } from './notifiers/email.js';
import { createLogNotifier } from './notifiers/log.js';
import { createPagerDutyNotifier } from './notifiers/pagerduty.js';
import { createSlackNotifier } from './notifiers/slack.js';
import { createWebhookNotifier } from './notifiers/webhook.js';

/** Every receiver type, one line each. Adding one: a file in notifiers/, a line here, its tests. */
export const notifiers: { readonly [T in ReceiverType]: NotifierFactory<T> } = {
  webhook: createWebhookNotifier,
  slack: createSlackNotifier,
  discord: createDiscordNotifier,
  email: createEmailNotifier,
  pagerduty: createPagerDutyNotifier,
  alertmanager: createAlertmanagerNotifier,
  log: createLogNotifier,
};

export function createNotifier(config: ReceiverConfig, deps: NotifierDeps): Notifier {
  const factory = notifiers[config.type] as NotifierFactory;
  return factory(config, deps);
}
