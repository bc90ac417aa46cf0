import type { SecurityEvent } from '../store/records.js';
import type { SecurityEventRepository } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';

/** Called for every recorded event, after it was logged: the app counts it and publishes it on the bus. */
export type SecurityEventListener = (event: SecurityEvent) => void;

/** Rejections of one kind are stored at most about once per this window (plus the window's last). */
const COALESCE_MS = 1000;
/** Kinds tracked at once; beyond it a new kind is stored as it comes, uncoalesced. */
const MAX_TRACKED = 10_000;

/** A kind of rejection seen in the current window: the latest one held back, and how many before it were not stored. */
interface Window {
  pending: SecurityEvent | undefined;
  suppressed: number;
}

/**
 * The one way every part of Vigil reports a security event (auth failures, locks, and the gateway's
 * protection stages): logged, stored, and handed to the listener. A store failure is logged, never
 * thrown at the caller, so a rejection path cannot be turned into a crash.
 */
export class SecurityEventRecorder {
  private readonly windows = new Map<string, Window>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repo: SecurityEventRepository,
    private readonly logger: Logger,
    private readonly listener: SecurityEventListener = () => {},
    /** Masks PII in the string values of `details` before the event goes anywhere (issue 8: every stored event). */
    private readonly maskText: (text: string) => string = (text) => text,
  ) {}

  async record(recorded: SecurityEvent): Promise<void> {
    const event = this.prepare(recorded);
    this.notify(event);
    await this.persist(event);
  }

  /**
   * A rejection that comes once per refused request, so a flood cannot become a stored row and a
   * log line per request. Every one reaches the listener at once (the metric, ban scenarios and
   * event alert rules count each offence), but of each `kind` (the caller's key: type, address,
   * route and what else tells rejections apart) only the first in a window of about a second is
   * logged and stored; when the window ends, the last one held back is stored with
   * `details.suppressed`, the number of others that were not. Stored events plus their `suppressed`
   * counts add up to every rejection. Never throws; nothing to await.
   */
  reject(kind: string, recorded: SecurityEvent): void {
    const event = this.prepare(recorded);
    this.notify(event);
    const window = this.windows.get(kind);
    if (window) {
      if (window.pending) window.suppressed++;
      window.pending = event;
      return;
    }
    if (this.windows.size < MAX_TRACKED) {
      this.windows.set(kind, { pending: undefined, suppressed: 0 });
      this.timer ??= setTimeout(() => void this.endWindow(), COALESCE_MS).unref();
    }
    void this.persist(event);
  }

  /** Stores what the current window holds back; called at shutdown, before the store closes. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    const written = this.endWindow();
    // endWindow set a new timer for the kinds still open: the shutdown forgets them.
    clearTimeout(this.timer);
    this.timer = undefined;
    this.windows.clear();
    await written;
  }

  /** Stores each kind's held-back rejection; a kind quiet for a whole window is forgotten. */
  private async endWindow(): Promise<void> {
    this.timer = undefined;
    const writes: Promise<void>[] = [];
    for (const [kind, window] of this.windows) {
      const { pending, suppressed } = window;
      if (!pending) {
        this.windows.delete(kind);
        continue;
      }
      writes.push(this.persist(suppressed > 0 ? { ...pending, details: { ...pending.details, suppressed } } : pending));
      window.pending = undefined;
      window.suppressed = 0;
    }
    if (this.windows.size > 0) this.timer = setTimeout(() => void this.endWindow(), COALESCE_MS).unref();
    await Promise.all(writes);
  }

  private prepare(recorded: SecurityEvent): SecurityEvent {
    return { ...recorded, route: recorded.route ?? null, details: maskValues(recorded.details, this.maskText, 0) as Record<string, unknown> };
  }

  private notify(event: SecurityEvent): void {
    try {
      this.listener(event);
    } catch (err) {
      this.logger.error({ err, type: event.type }, 'security event listener failed');
    }
  }

  private async persist(event: SecurityEvent): Promise<void> {
    this.logger.warn({ securityEvent: event }, 'security event');
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
