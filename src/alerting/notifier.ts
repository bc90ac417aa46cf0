import type { Dispatcher } from 'undici';
import type { ReceiverConfig } from '../config/schema.js';
import type { Logger } from '../telemetry/logger.js';

export type ReceiverType = ReceiverConfig['type'];

/** One delivery attempt of one outbox notification. */
export interface Delivery {
  /** The outbox ID: the same on every retry, so receivers can drop duplicates. */
  notificationId: number;
  /** 1 for the first attempt. */
  attempt: number;
  /** The JSON body (NotificationPayloadV2), as enqueued. */
  payload: string;
}

/** Sends notifications to one configured receiver. */
export interface Notifier {
  readonly receiver: string;
  /**
   * Resolves when the receiver accepted the notification; rejects with VGL_NOTIFY_FAILED otherwise.
   * Error messages name the receiver and what went wrong, never its URL, key or password.
   */
  send(delivery: Delivery, signal: AbortSignal): Promise<void>;
  /** Releases connections (SMTP pools); optional. */
  close?(): Promise<void>;
}

export interface NotifierDeps {
  dispatcher: Dispatcher;
  logger: Logger;
}

export type NotifierFactory<T extends ReceiverType = ReceiverType> = (config: Extract<ReceiverConfig, { type: T }>, deps: NotifierDeps) => Notifier;
