/** Field paths that never reach a log line, whatever the configuration says. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.token',
  'password',
  'secret',
  'apiKey',
  'token',
];

export const REDACTED = '[REDACTED]';

/** Vigil API keys and common bearer-token shapes, caught wherever they appear in a log line. */
const TOKEN_PATTERNS = /vgl_[a-z0-9]{12}_[A-Za-z0-9]{20,}|Bearer\s+[A-Za-z0-9._~+/=-]{8,}/g;

/**
 * Removes secret values from serialized log lines. Paths catch known fields; this catches the
 * value itself wherever it ended up (an error message, a URL, a nested object).
 *
 * It runs on every log line (one per gateway request), so the work is front-loaded: a line without
 * the literal `vgl_` or `Bearer` cannot match TOKEN_PATTERNS and skips the regex, and each value's
 * JSON-escaped form is computed once when it is registered, not per line.
 */
export class SecretScrubber {
  /** `mask` runs last on every line: the PII masking configured in `log.maskPii`. */
  constructor(private readonly mask?: (line: string) => string) {}

  /** Each registered value with its JSON-escaped form (as it appears inside a serialized string). */
  private readonly values = new Map<string, string>();
  /** Changes whenever a value is registered, so a cache of scrubbed strings knows it is stale. */
  version = 0;

  /** Registers a value that must never be logged. Very short values are ignored (too many false hits). */
  add(value: string): void {
    if (value.length < 4 || this.values.has(value)) return;
    this.values.set(value, JSON.stringify(value).slice(1, -1));
    this.version++;
  }

  /** Secrets out, then PII masked: what every ordinary log line gets. Returns `line` itself when nothing changed. */
  scrub(line: string): string {
    const out = this.scrubSecrets(line);
    return this.mask ? this.mask(out) : out;
  }

  /**
   * Secrets only, no PII masking: for lines whose fields that can carry PII were already passed
   * through scrub() one by one (the access log, where PII detection over the whole line was
   * the largest part of its cost). Returns `line` itself when nothing changed.
   */
  scrubSecrets(line: string): string {
    let out = line.includes('vgl_') || line.includes('Bearer') ? line.replace(TOKEN_PATTERNS, REDACTED) : line;
    for (const [value, escaped] of this.values) {
      if (out.includes(value)) out = out.split(value).join(REDACTED);
      if (escaped !== value && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
    }
    return out;
  }
}
