import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { requestContext } from './context.js';
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
 * The process logger: JSON lines (pretty on a TTY), the current request ID on every line written
 * inside a request, secrets removed by field path and by value.
 */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && options.destination === undefined && process.stdout.isTTY === true);
  const destination =
    options.destination ??
    (pretty
      ? (pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } }) as DestinationStream)
      : pino.destination({ sync: false }));
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      redact: { paths: [...REDACTED_PATHS, ...options.redact], censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const ctx = requestContext.getStore();
        return ctx ? { requestId: ctx.requestId } : {};
      },
      hooks: { streamWrite: (line) => options.scrubber.scrub(line) },
    },
    destination,
  );
}
