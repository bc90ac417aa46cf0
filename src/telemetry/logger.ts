import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { LineBatcher } from './line-batcher.js';
import { REDACTED, REDACTED_PATHS } from './redact.js';
import type { SecretScrubber } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  redact: readonly string[];
  scrubber: SecretScrubber;
  /** Where lines go; stdout by default. Tests pass a stream to read the real output. */
  destination?: DestinationStream;
}

/**
 * The process logger: JSON lines (pretty on a TTY), secrets removed by field path and by value.
 * Lines about one gateway request carry its ID as a field (`requestId`, or `correlationId` in a
 * security event), passed by the code that logs them: no AsyncLocalStorage, whose async hooks
 * would cost every promise and socket in the process on Node 20.
 */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && options.destination === undefined && process.stdout.isTTY === true);
  const boom = options.destination === undefined && !pretty ? pino.destination({ sync: false }) : undefined;
  const destination =
    options.destination ??
    boom ??
    (pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } }) as DestinationStream);
  const common = {
    level: options.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const logger = pino(
    {
      ...common,
      redact: { paths: [...REDACTED_PATHS, ...options.redact], censor: REDACTED },
      hooks: { streamWrite: (line) => options.scrubber.scrub(line) },
    },
    destination,
  );
  // The access logger writes to the same destination (whole lines, in order), without field-path
  // redaction (its record has one fixed shape with no credential field) and with PII masking applied to the record's free-text
  // fields by the caller instead of to the whole line: the three were most of an access line's cost.
  const scrubber = options.scrubber;
  accessLogs.set(logger, {
    // On pino's own async file destination, access lines are handed over once per event-loop turn
    // (line-batcher.ts: SonicBoom re-copies its pending buffer on every write).
    logger: pino({ ...common, hooks: { streamWrite: (line) => scrubber.scrubSecrets(line) } }, boom ? new LineBatcher(boom) : destination),
    scrub: memoizedScrub(scrubber),
  });
  return logger;
}

/** Strings longer than this are scrubbed every time rather than remembered. */
const MEMO_MAX_LENGTH = 512;
/** Remembered strings; the cache starts over when full. */
const MEMO_MAX_ENTRIES = 1024;

/**
 * `scrubber.scrub` remembering its answers: an access line's path and client address repeat from
 * request to request, and PII detection over them was a visible part of an access line's cost.
 * Scrubbing is a function of the text and the registered secrets, so the cache is dropped when a
 * secret is registered.
 */
function memoizedScrub(scrubber: SecretScrubber): (text: string) => string {
  const cache = new Map<string, string>();
  let version = scrubber.version;
  return (text) => {
    if (text.length > MEMO_MAX_LENGTH) return scrubber.scrub(text);
    if (version !== scrubber.version) {
      cache.clear();
      version = scrubber.version;
    }
    let out = cache.get(text);
    if (out === undefined) {
      out = scrubber.scrub(text);
      if (cache.size >= MEMO_MAX_ENTRIES) cache.clear();
      cache.set(text, out);
    }
    return out;
  };
}

/** The gateway's access log: a logger, and the scrubbing its caller applies to each field that can carry PII or a secret. */
export interface AccessLog {
  readonly logger: Logger;
  /** Secrets removed and PII masked, as a whole log line would get; returns `text` itself when nothing changed. */
  readonly scrub: (text: string) => string;
}

const accessLogs = new WeakMap<Logger, AccessLog>();

/**
 * The access log belonging to a logger made by createLogger. For any other logger: a child that
 * skips path redaction, whose own line hook still scrubs and masks the whole line.
 */
export function accessLogFor(logger: Logger): AccessLog {
  return accessLogs.get(logger) ?? { logger: logger.child({}, { redact: { paths: [], censor: REDACTED } }), scrub: (text) => text };
}
