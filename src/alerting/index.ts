/** Alerting: rules over check results, alert state, the durable outbox and its notifiers. */
export { AlertingService } from './alerting-service.js';
export type { AlertingDeps } from './alerting-service.js';
export { CheckDownRule } from './check-down-rule.js';
export type { AlertTransition } from './check-down-rule.js';
export { DEFAULT_OUTBOX_OPTIONS, OutboxWorker, retryDelay } from './outbox-worker.js';
export type { DeliveryOutcome, OutboxWorkerDeps, OutboxWorkerOptions, Receiver, RetryPolicy } from './outbox-worker.js';
export { notificationPayload } from './payload.js';
export type { WebhookPayloadV1 } from './payload.js';
export type { Delivery, Notifier, NotifierDeps, NotifierFactory, ReceiverType } from './notifier.js';
export { createNotifier, notifiers } from './registry.js';
export { WebhookNotifier } from './notifiers/webhook.js';
