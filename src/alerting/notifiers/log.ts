import type { ReceiverConfig } from '../../config/schema.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Delivery, Notifier, NotifierDeps, NotifierFactory } from '../notifier.js';
import type { NotificationPayloadV2 } from '../payload.js';
import { alertLine, noticeTitle } from '../payload.js';

type LogConfig = Extract<ReceiverConfig, { type: 'log' }>;

/** Writes each notification to Vigil's own log: `warn` while alerts fire, `info` otherwise. */
export class LogNotifier implements Notifier {
  readonly receiver: string;
  private readonly logger: Logger;

  constructor(config: LogConfig, deps: NotifierDeps) {
    this.receiver = config.name;
    this.logger = deps.logger.child({ receiver: config.name });
  }

  send(delivery: Delivery): Promise<void> {
    const p = JSON.parse(delivery.payload) as NotificationPayloadV2;
    const line = { notification: delivery.notificationId, status: p.status, groupLabels: p.groupLabels, alerts: p.alerts.map(alertLine) };
    if (p.status === 'firing') this.logger.warn(line, noticeTitle(p));
    else this.logger.info(p.status === 'digest' ? { ...line, digest: p.digest?.text } : line, noticeTitle(p));
    return Promise.resolve();
  }
}

export const createLogNotifier: NotifierFactory<'log'> = (config, deps) => new LogNotifier(config, deps);
