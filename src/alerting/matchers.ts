import { VigilError } from '../core/errors.js';

/** One label matcher: `name="value"`, `name!="value"`, `name=~"regex"`, `name!~"regex"` (quotes optional). */
export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
  /** Anchored at both ends, like Alertmanager and Prometheus. */
  regex?: RegExp;
}

const SYNTAX = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^"]*?))\s*$/;
const MAX_REGEX = 200;

/**
 * Why a regex is refused, or undefined when it is safe: patterns that can backtrack without bound
 * (a quantified group holding a quantifier, like `(a+)+`), back-references and look-arounds are
 * refused, so a matcher can never stall alert delivery.
 */
export function unsafeRegex(source: string): string | undefined {
  if (source.length > MAX_REGEX) return `longer than ${MAX_REGEX} characters`;
  if (/\\[1-9]|\\k</.test(source)) return 'back-references are not allowed';
  if (/\(\?<?[=!]/.test(source)) return 'look-arounds are not allowed';
  // Track, per open group, whether its body holds a quantifier; a quantifier after such a group is nested.
  const stack: boolean[] = [];
  let quantifiedInside = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      const close = source.indexOf(']', i + 2);
      if (close === -1) return 'unclosed character class';
      i = close;
      continue;
    }
    if (c === '(') {
      stack.push(quantifiedInside);
      quantifiedInside = false;
    } else if (c === ')') {
      const inner: boolean = quantifiedInside;
      quantifiedInside = stack.pop() ?? false;
      const next = source[i + 1];
      const quantified = next === '*' || next === '+' || next === '{' || next === '?';
      if (inner && quantified && next !== '?') return 'nested quantifiers (like (a+)+) are not allowed';
      quantifiedInside ||= inner || quantified;
    } else if (c === '*' || c === '+' || c === '{') {
      quantifiedInside = true;
    }
  }
  return undefined;
}

/** What is wrong with a matcher's text, or undefined when it parses. */
export function matcherProblem(text: string): string | undefined {
  try {
    parseMatcher(text);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export function parseMatcher(text: string): Matcher {
  const m = SYNTAX.exec(text);
  if (m === null) throw new VigilError('VGL_ALERT_MATCHER', `'${text.slice(0, 80)}' is not a matcher like name="value", name!="value", name=~"regex" or name!~"regex"`);
  const label = m[1] as string;
  const op = m[2] as Matcher['op'];
  const value = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[4] as string);
  if (op === '=' || op === '!=') return { label, op, value };
  const problem = unsafeRegex(value);
  if (problem !== undefined) throw new VigilError('VGL_ALERT_MATCHER', `matcher on '${label}': regex ${problem}`);
  try {
    return { label, op, value, regex: new RegExp(`^(?:${value})$`, 'u') };
  } catch (err) {
    throw new VigilError('VGL_ALERT_MATCHER', `matcher on '${label}': ${(err as Error).message}`);
  }
}

export function matches(matcher: Matcher, labels: Readonly<Record<string, string>>): boolean {
  const value = labels[matcher.label] ?? '';
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return (matcher.regex as RegExp).test(value);
    case '!~':
      return !(matcher.regex as RegExp).test(value);
  }
}

export function matchesAll(list: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  return list.every((m) => matches(m, labels));
}

export function formatMatcher(m: Matcher): string {
  return `${m.label}${m.op}${JSON.stringify(m.value)}`;
}
