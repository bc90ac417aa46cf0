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
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
      redact: { paths: [...REDACTED_PATHS, ...options.redact], censor: REDACTED },
      hooks: { streamWrite: (line) => options.scrubber.scrub(line) },
    },
    destination,
  );
  // The access log writes to the same destination (whole lines, in order) with its own
  // serializer: its record has one fixed shape with no credential field (no field-path redaction),
  // PII masking is applied by the caller to the record's free-text fields rather than to the whole
  // line, and the line is one JSON.stringify of the record between a fixed prefix and suffix, in
  // pino's layout. Those were most of an access line's cost. On pino's own async file destination,
  // lines are handed over in batches (line-batcher.ts).
  const scrubber = options.scrubber;
  const target: DestinationStream = boom ? new LineBatcher(boom) : destination;
  const middle = `","pid":${process.pid},"access":`;
  accessLogs.set(logger, {
    write: (record) => {
      if (!logger.isLevelEnabled('info')) return;
      target.write(scrubber.scrubSecrets(`{"level":"info","time":"${isoNow()}${middle}${JSON.stringify(record)},"msg":"request"}\n`));
    },
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

/** The gateway's access log: a line writer, and the scrubbing its caller applies to each field that can carry PII or a secret. */
export interface AccessLog {
  /** Writes `{"level":"info","time":…,"pid":…,"access":<record>,"msg":"request"}` when the level lets info lines through. */
  readonly write: (record: object) => void;
  /** Secrets removed and PII masked, as a whole log line would get; returns `text` itself when nothing changed. */
  readonly scrub: (text: string) => string;
}

const accessLogs = new WeakMap<Logger, AccessLog>();

/**
 * The access log belonging to a logger made by createLogger. For any other logger: a child that
 * skips path redaction, whose own line hook still scrubs and masks the whole line.
 */
export function accessLogFor(logger: Logger): AccessLog {
  const existing = accessLogs.get(logger);
  if (existing) return existing;
  const child = logger.child({}, { redact: { paths: [], censor: REDACTED } });
  return { write: (record) => child.info({ access: record }, 'request'), scrub: (text) => text };
}

let isoAt = 0;
let iso = '';
/** The time as pino's isoTime writes it, formatted once per millisecond. */
function isoNow(): string {
  const now = Date.now();
  if (now !== isoAt) {
    isoAt = now;
    iso = new Date(now).toISOString();
  }
  return iso;
}
