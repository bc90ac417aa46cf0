import type { ReceiverConfig } from '../config/schema.js';
import type { Notifier, NotifierDeps, NotifierFactory, ReceiverType } from './notifier.js';
import { createWebhookNotifier } from './notifiers/webhook.js';

/** Every receiver type, one line each. Adding one: a file in notifiers/, a line here, its tests. */
export const notifiers: { readonly [T in ReceiverType]: NotifierFactory<T> } = {
  webhook: createWebhookNotifier,
};

export function createNotifier(config: ReceiverConfig, deps: NotifierDeps): Notifier {
  const factory = notifiers[config.type] as NotifierFactory;
  return factory(config, deps);
}
