import type { Logger } from '../telemetry/logger.js';

/** One security-relevant action: who did what to which thing, from where, and how it ended. */
export interface AuditEvent {
  at: number;
  /** User name, `key:<id>`, or `system` for Vigil's own actions. */
  actor: string;
  /** Dotted verb, e.g. `keys.create`, `users.login`, `secrets.rotate`. */
  action: string;
  /** What was acted on, e.g. a key ID or user name; empty when there is none. */
  target: string;
  sourceIp: string | null;
  /** `requested` is written before an action runs, so that a failing audit log can refuse it (fail-closed). */
  result: 'requested' | 'success' | 'failure' | 'denied';
  /** Extra facts; never secret values. */
  details?: Record<string, unknown>;
}

/**
 * Where every capability sends its audit events. The durable, hash-chained audit log implements
 * this; a sink may throw to refuse the action when it cannot record it (fail-closed).
 */
export interface AuditSink {
  record(event: AuditEvent): Promise<void>;
}

/** Writes audit events as log lines: the sink in use until the durable audit log is configured. */
export class LogAuditSink implements AuditSink {
  constructor(private readonly logger: Logger) {}

  record(event: AuditEvent): Promise<void> {
    this.logger.info({ audit: event }, 'audit');
    return Promise.resolve();
  }
}
