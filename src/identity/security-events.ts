import type { SecurityEvent } from '../store/records.js';
import type { SecurityEventRepository } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';

/** Called for every recorded event, after it was logged: the app counts it and publishes it on the bus. */
export type SecurityEventListener = (event: SecurityEvent) => void;

/**
 * The one way every part of Vigil reports a security event (auth failures, locks, and the gateway's
 * protection stages): logged, stored, and handed to the listener. A store failure is logged, never
 * thrown at the caller, so a rejection path cannot be turned into a crash.
 */
export class SecurityEventRecorder {
  constructor(
    private readonly repo: SecurityEventRepository,
    private readonly logger: Logger,
    private readonly listener: SecurityEventListener = () => {},
  ) {}

  async record(event: SecurityEvent): Promise<void> {
    this.logger.warn({ securityEvent: event }, 'security event');
    try {
      this.listener(event);
    } catch (err) {
      this.logger.error({ err, type: event.type }, 'security event listener failed');
    }
    try {
      await this.repo.append(event);
    } catch (err) {
      this.logger.error({ err, type: event.type }, 'security event could not be stored');
    }
  }
}
