import { detectPii } from './detectors.js';
import type { PiiKind, PiiMatch } from './detectors.js';

/**
 * How many trailing characters of a body are held back until more arrives, so that a value split
 * across chunks is still seen whole. Longer than any value the detectors are meant for (an e-mail
 * address is at most 320, an IBAN 42, a card 37 with separators; JWTs and API keys run to a few
 * hundred); a value longer than this may be missed where a chunk boundary splits it.
 */
export const PII_WINDOW = 4096;
/** Already passed-on characters kept as left context (word boundaries, `version 1.2.3.4`). */
const CONTEXT = 16;
/** A value still growing at the end of the held text is held at most this long, so memory stays bounded. */
const MAX_HOLD = 64 * 1024;

export interface PiiStreamHandler {
  readonly kinds: ReadonlySet<PiiKind>;
  /** Called with the values that are final (will not grow with more input) before they pass; throw to reject the body. */
  found?(matches: readonly PiiMatch[]): void;
  /** What a found value is replaced with; undefined leaves the text as it is. */
  replace?(match: PiiMatch): string;
}

/**
 * Finds PII in a body as it streams. Bytes are read as latin1 (one character per byte, so any
 * bytes round-trip unchanged and a multi-byte UTF-8 character is never split; the detectors only
 * match ASCII). Everything up to the last newline, or all but the last PII_WINDOW characters, is
 * passed on at once — Server-Sent Events and NDJSON lines arrive as they are sent — except a value
 * that straddles that point, which is held until it is complete.
 */
export class PiiStreamScanner {
  private held = '';
  private context = '';
  /** Without a replacement the scanner only inspects (block): bytes pass unchanged. */
  readonly keepsLength: boolean;

  constructor(private readonly handler: PiiStreamHandler) {
    this.keepsLength = handler.replace === undefined;
  }

  push(chunk: Buffer): Buffer {
    return this.scan(this.held + chunk.toString('latin1'), false);
  }

  end(): Buffer {
    return this.scan(this.held, true);
  }

  private scan(pending: string, final: boolean): Buffer {
    const text = this.context + pending;
    const base = this.context.length;
    const matches = pending.length > 0 ? detectPii(text, this.handler.kinds) : [];
    let cut = text.length;
    if (!final) {
      cut = Math.max(base, text.length - PII_WINDOW, text.lastIndexOf('\n') + 1);
      const straddling = matches.find((m) => m.start >= base && m.start < cut && m.end > cut);
      if (straddling && text.length - straddling.start <= MAX_HOLD) cut = straddling.start;
    }
    const passing = matches.filter((m) => m.start >= base && m.end <= cut);
    if (passing.length > 0) this.handler.found?.(passing);
    let out = '';
    let at = base;
    if (this.handler.replace) {
      for (const m of passing) {
        out += text.slice(at, m.start) + this.handler.replace(m);
        at = m.end;
      }
    }
    out += text.slice(at, cut);
    this.context = text.slice(Math.max(0, cut - CONTEXT), cut);
    this.held = text.slice(cut);
    return Buffer.from(out, 'latin1');
  }
}
