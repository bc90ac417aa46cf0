/**
 * PII detectors: a pattern finds candidates, a validator (Luhn, IBAN mod-97, octet ranges) drops
 * look-alikes, so that order numbers and version strings are not masked as cards and addresses.
 */
export const PII_KINDS = ['email', 'phone', 'card', 'iban', 'national_id', 'ip', 'api_key', 'bearer'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export interface PiiMatch {
  kind: PiiKind;
  start: number;
  end: number;
  value: string;
}

interface Detector {
  kind: PiiKind;
  pattern: RegExp;
  valid?: (match: string) => boolean;
  /** Rejects a match by what precedes it (e.g. `version 1.2.3.4` is not an address). */
  validBefore?: (before: string) => boolean;
}

const VERSION_WORD = /\b(?:v|ver|version|build|release|rev)\s*$/i;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

export function ibanValid(text: string): boolean {
  const iban = text.replace(/\s/g, '').toUpperCase();
  if (iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const value = ch >= 'A' && ch <= 'Z' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

function cardValid(match: string): boolean {
  const digits = match.replace(/[ -]/g, '');
  return digits.length >= 13 && digits.length <= 19 && /^[2-6]/.test(digits) && luhnValid(digits);
}

function ipv4Valid(match: string): boolean {
  return match.split('.').every((octet) => Number(octet) <= 255 && !(octet.length > 1 && octet.startsWith('0')));
}

function ssnValid(match: string): boolean {
  const [area, group, serial] = match.split('-');
  return area !== '000' && area !== '666' && !(area as string).startsWith('9') && group !== '00' && serial !== '0000';
}

/** Order matters: earlier kinds win where matches overlap (a bearer token before the key inside it). */
const DETECTORS: readonly Detector[] = [
  { kind: 'bearer', pattern: /\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/g },
  {
    kind: 'api_key',
    pattern: /\b(?:vgl_[a-z2-7]{12}_[A-Za-z0-9]{32}|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|(?:AKIA|ASIA)[A-Z0-9]{16}|gh[pousr]_[A-Za-z0-9]{36,}|xox[abpr]-[A-Za-z0-9-]{10,}|AIza[A-Za-z0-9_-]{35}|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})/g,
  },
  { kind: 'email', pattern: /\b[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}\b/g },
  { kind: 'iban', pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g, valid: ibanValid },
  { kind: 'card', pattern: /\b\d(?:[ -]?\d){12,18}\b/g, valid: cardValid },
  { kind: 'national_id', pattern: /\b\d{3}-\d{2}-\d{4}\b/g, valid: ssnValid },
  { kind: 'ip', pattern: /\b(?:\d{1,3}\.){3}\d{1,3}\b/g, valid: ipv4Valid, validBefore: (before) => !VERSION_WORD.test(before) },
  {
    kind: 'ip',
    pattern: /\b(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b|\b(?:[0-9a-fA-F]{1,4}:){1,6}:(?:[0-9a-fA-F]{1,4}:?){1,6}\b/g,
    valid: (m) => m.split(':').filter(Boolean).length >= 3,
  },
  { kind: 'phone', pattern: /(?<![\w.+-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,6}){1,4}(?![\w-])/g, valid: (m) => phoneValid(m) },
];

function phoneValid(match: string): boolean {
  const digits = match.replace(/\D/g, '');
  // Needs a country code or a separator pattern of a real number, and the digit count of one.
  if (digits.length < 9 || digits.length > 15) return false;
  if (/^\d{4}-\d{2}-\d{2}/.test(match)) return false; // a date
  if (/^\d{3}-\d{2}-\d{4}$/.test(match)) return false; // national ID shape
  return match.trim().startsWith('+') || match.includes('(') || /^\d{3}[ .-]\d{3}[ .-]\d{4}$/.test(match.trim()) || /^0\d/.test(match.trim());
}

/**
 * Cheap tests that rule a kind out before its full pattern runs: most log lines hold no PII at all.
 * Each must be implied by its kind's pattern, or what is found would depend on the rest of the text.
 */
const PREFILTER: Record<PiiKind, RegExp> = {
  bearer: /Bearer/,
  api_key: /vgl_|sk-|AKIA|ASIA|gh[pousr]_|xox|AIza|eyJ/,
  email: /@/,
  iban: /[A-Z]{2}\d{2}/,
  // Exactly the card pattern's own minimum: a looser-looking `\d{4}[ -]?\d{4}…` missed Amex (4-6-5) and
  // Diners (4-6-4) groupings unless another number on the line happened to pass it.
  card: /\d(?:[ -]?\d){12}/,
  national_id: /\d{3}-\d{2}-\d{4}/,
  ip: /\d\.\d|:[0-9a-fA-F]*:/,
  phone: /\d{2}[ .)-]+\d{2}/,
};

/** Every PII match in `text`, non-overlapping, in order. */
export function detectPii(text: string, kinds?: ReadonlySet<PiiKind>): PiiMatch[] {
  const found: PiiMatch[] = [];
  // An indexed loop: this runs on every access line's fields, and a for-of allocates an iterator
  // result per detector until the function is optimised (bench/README.md).
  for (let d = 0; d < DETECTORS.length; d++) {
    const detector = DETECTORS[d] as Detector;
    if ((kinds && !kinds.has(detector.kind)) || !PREFILTER[detector.kind].test(text)) continue;
    for (const m of text.matchAll(detector.pattern)) {
      const start = m.index;
      const end = start + m[0].length;
      if (detector.valid && !detector.valid(m[0])) continue;
      if (detector.validBefore && !detector.validBefore(text.slice(Math.max(0, start - 12), start))) continue;
      if (found.some((f) => start < f.end && end > f.start)) continue;
      found.push({ kind: detector.kind, start, end, value: m[0] });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

/** Replaces every match with what `replace` returns for it. */
export function replacePii(text: string, replace: (match: PiiMatch) => string, kinds?: ReadonlySet<PiiKind>): string {
  const matches = detectPii(text, kinds);
  if (matches.length === 0) return text;
  let out = '';
  let at = 0;
  for (const match of matches) {
    out += text.slice(at, match.start) + replace(match);
    at = match.end;
  }
  return out + text.slice(at);
}

/** `[EMAIL]`, `[CARD]`…: the masked form used in logs. */
export function maskPii(text: string, kinds?: ReadonlySet<PiiKind>): string {
  return replacePii(text, (m) => `[${m.kind.toUpperCase()}]`, kinds);
}
