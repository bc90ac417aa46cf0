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
 */
export class SecretScrubber {
  private readonly values = new Set<string>();

  /** Registers a value that must never be logged. Very short values are ignored (too many false hits). */
  add(value: string): void {
    if (value.length >= 4) this.values.add(value);
  }

  scrub(line: string): string {
    let out = line.replace(TOKEN_PATTERNS, REDACTED);
    for (const value of this.values) {
      if (out.includes(value)) out = out.split(value).join(REDACTED);
      const escaped = JSON.stringify(value).slice(1, -1);
      if (escaped !== value && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
    }
    return out;
  }
}
