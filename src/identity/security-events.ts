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
    /** Masks PII in the string values of `details` before the event goes anywhere (issue 8: every stored event). */
    private readonly maskText: (text: string) => string = (text) => text,
  ) {}

  async record(recorded: SecurityEvent): Promise<void> {
    const event: SecurityEvent = { ...recorded, route: recorded.route ?? null, details: maskValues(recorded.details, this.maskText, 0) as Record<string, unknown> };
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

/** Deepest nesting of `details` kept; deeper values are replaced (details are small, flat facts). */
const MAX_DEPTH = 8;

function maskValues(value: unknown, mask: (text: string) => string, depth: number): unknown {
  if (typeof value === 'string') return mask(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[TOO DEEP]';
  if (Array.isArray(value)) return value.map((item) => maskValues(item, mask, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = maskValues(item, mask, depth + 1);
  return out;
}
