import type { SecurityEvent } from '../store/records.js';
import type { SecurityEventRepository } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';

/** Records security events in the store and the log; a store failure is logged, never thrown at the caller. */
export class SecurityEventRecorder {
  constructor(
    private readonly repo: SecurityEventRepository,
    private readonly logger: Logger,
  ) {}

  async record(event: SecurityEvent): Promise<void> {
    this.logger.warn({ securityEvent: event }, 'security event');
    try {
      await this.repo.append(event);
    } catch (err) {
      this.logger.error({ err, type: event.type }, 'security event could not be stored');
    }
  }
}
