import safeRegex from 'safe-regex2';
import { parseDuration } from '../core/duration.js';

/**
 * The condition language shared by every check type, after Gatus: `[PLACEHOLDER]<path> OPERATOR value`.
 *
 *   [STATUS] == 200              [BODY].data.ok == true        [RESPONSE_TIME] < 500ms
 *   [BODY] contains "healthy"    [BODY] matches "^ok"          [CERTIFICATE_EXPIRATION] > 48h
 *
 * One line per condition, all must hold. It is parsed once at config load (a typo is a config
 * error with its YAML path), and each check type accepts only the placeholders it can fill.
 */

export const PLACEHOLDERS = [
  'STATUS',
  'BODY',
  'RESPONSE_TIME',
  'CERTIFICATE_EXPIRATION',
  'VALUE',
  'EXIT_CODE',
  'OUTPUT',
  'RECORDS',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export type Operator = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'contains' | '!contains' | 'matches';
export type Literal = string | number | boolean | null;

export interface Condition {
  /** The condition as written, for result details. */
  readonly text: string;
  readonly placeholder: Placeholder;
  /** Path into a JSON value (`[BODY].items[0].id` → `['items', 0, 'id']`); empty for the whole value. */
  readonly path: readonly (string | number)[];
  readonly op: Operator;
  readonly expected: Literal;
  readonly regex: RegExp | undefined;
}

/** What one run observed, by placeholder. A JSON body is given parsed, a text body as a string. */
export type Facts = Partial<Record<Placeholder, unknown>>;

const CONDITION = /^\[([A-Z_]+)\]((?:\.[A-Za-z0-9_$-]+|\[\d+\])*)\s+(==|!=|<=|>=|<|>|!contains|contains|matches)\s+(.+)$/;
const PATH_PART = /\.([A-Za-z0-9_$-]+)|\[(\d+)\]/g;
const MAX_CONDITION_LENGTH = 500;
/** How much of an observed value a failure detail quotes. */
const QUOTE_LIMIT = 64;

/** Parses one condition; a string is the reason it is malformed. */
export function parseCondition(text: string): Condition | string {
  if (text.length > MAX_CONDITION_LENGTH) return `a condition is at most ${MAX_CONDITION_LENGTH} characters`;
  const match = CONDITION.exec(text.trim());
  if (!match) return `'${text}' is not a condition: write [PLACEHOLDER] OPERATOR value, e.g. [STATUS] == 200`;
  const [, name, rawPath, op, rawValue] = match as unknown as [string, string, string, Operator, string];
  if (!(PLACEHOLDERS as readonly string[]).includes(name)) return `unknown placeholder [${name}] (known: ${PLACEHOLDERS.map((p) => `[${p}]`).join(', ')})`;
  const path: (string | number)[] = [];
  for (const part of rawPath.matchAll(PATH_PART)) path.push(part[2] === undefined ? (part[1] as string) : Number(part[2]));
  const expected = parseLiteral(rawValue.trim());
  if (typeof expected === 'object' && expected !== null) return expected.error;
  const numeric = op === '<' || op === '<=' || op === '>' || op === '>=';
  if (numeric && typeof expected !== 'number') return `'${op}' compares numbers or durations, not '${rawValue.trim()}'`;
  let regex: RegExp | undefined;
  if (op === 'matches') {
    if (typeof expected !== 'string') return `'matches' needs a regular expression in quotes`;
    try {
      regex = new RegExp(expected);
    } catch {
      return `'${expected}' is not a valid regular expression`;
    }
    // A pattern with nested repetition can take exponential time on a hostile body and stall every check.
    if (!safeRegex(regex)) return `'${expected}' may backtrack catastrophically (nested repetition); simplify it`;
  }
  return { text: text.trim(), placeholder: name as Placeholder, path, op, expected, regex };
}

function parseLiteral(raw: string): Literal | { error: string } {
  if (raw.startsWith('"')) {
    try {
      const value: unknown = JSON.parse(raw);
      if (typeof value === 'string') return value;
    } catch {
      // fall through to the error below
    }
    return { error: `${raw} is not a well-formed double-quoted string` };
  }
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'null') return null;
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  const ms = parseDuration(raw);
  if (ms !== undefined) return ms;
  if (/^[A-Za-z0-9_.:/-]+$/.test(raw)) return raw;
  return { error: `'${raw}' is not a value: use a number, a duration (48h), true/false/null or a "quoted string"` };
}

export interface ConditionVerdict {
  ok: boolean;
  /** Why it failed, e.g. `[STATUS] == 200 failed (got 503)`; undefined when it held. */
  reason: string | undefined;
}

/** Evaluates every condition; the first failure explains the verdict. */
export function evaluateConditions(conditions: readonly Condition[], facts: Facts): ConditionVerdict {
  for (const condition of conditions) {
    const reason = evaluate(condition, facts);
    if (reason !== undefined) return { ok: false, reason };
  }
  return { ok: true, reason: undefined };
}

/** Undefined when the condition holds, else why not. */
function evaluate(c: Condition, facts: Facts): string | undefined {
  const resolved = resolve(facts[c.placeholder], c.path, c.placeholder === 'BODY');
  if (resolved.missing) return `${c.text} failed (${placeholderText(c)} is missing)`;
  const actual = resolved.value;
  if (holds(c, actual)) return undefined;
  // A whole body may hold anything, secrets included: only a value picked by path or a scalar is quoted.
  const quotable = !(c.placeholder === 'BODY' || c.placeholder === 'OUTPUT') || c.path.length > 0;
  return quotable ? `${c.text} failed (got ${quote(actual)})` : `${c.text} failed`;
}

function holds(c: Condition, actual: unknown): boolean {
  switch (c.op) {
    case '==':
      return equals(actual, c.expected);
    case '!=':
      return !equals(actual, c.expected);
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const n = toNumber(actual);
      const e = c.expected as number;
      if (n === undefined) return false;
      return c.op === '<' ? n < e : c.op === '<=' ? n <= e : c.op === '>' ? n > e : n >= e;
    }
    case 'contains':
      return textOf(actual).includes(String(c.expected));
    case '!contains':
      return !textOf(actual).includes(String(c.expected));
    case 'matches':
      return (c.regex as RegExp).test(textOf(actual));
  }
}

function equals(actual: unknown, expected: Literal): boolean {
  if (expected === null) return actual === null || actual === undefined;
  if (typeof expected === 'number') return toNumber(actual) === expected;
  if (typeof expected === 'boolean') return actual === expected || (typeof actual === 'string' && actual === String(expected));
  return textOf(actual) === expected;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return undefined;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join('\n');
  return JSON.stringify(value) ?? '';
}

function resolve(value: unknown, path: readonly (string | number)[], parseJson: boolean): { missing: boolean; value: unknown } {
  if (value === undefined) return { missing: true, value: undefined };
  let current = value;
  if (path.length > 0 && parseJson && typeof current === 'string') {
    try {
      current = JSON.parse(current);
    } catch {
      return { missing: true, value: undefined };
    }
  }
  for (const part of path) {
    if (current === null || typeof current !== 'object') return { missing: true, value: undefined };
    const next: unknown = (current as Record<string | number, unknown>)[part];
    if (next === undefined || !Object.prototype.hasOwnProperty.call(current, part)) return { missing: true, value: undefined };
    current = next;
  }
  return { missing: false, value: current };
}

/** `[BODY].data.ok`, as the operator wrote it. */
function placeholderText(c: Condition): string {
  return `[${c.placeholder}]${c.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}`;
}

function quote(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}…` : text;
}

/** Extracts a JSON value by a path written like a condition's (`data.credits.remaining`, `items[0].n`). */
export function parseJsonPath(text: string): (string | number)[] | string {
  const normalized = text.startsWith('[') || text.startsWith('.') ? text : `.${text}`;
  const parts: (string | number)[] = [];
  let consumed = 0;
  for (const part of normalized.matchAll(PATH_PART)) {
    if (part.index !== consumed) break;
    consumed += part[0].length;
    parts.push(part[2] === undefined ? (part[1] as string) : Number(part[2]));
  }
  if (consumed !== normalized.length || parts.length === 0) return `'${text}' is not a JSON path: write e.g. data.credits or items[0].value`;
  return parts;
}

/** The value at `path` in `json`, or undefined when any step is missing. */
export function valueAt(json: unknown, path: readonly (string | number)[]): unknown {
  const found = resolve(json, path, false);
  return found.missing ? undefined : found.value;
}
