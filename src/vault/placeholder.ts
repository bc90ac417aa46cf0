/**
 * Values that mean "fill me in": left in a deployed environment they are as bad as an unset
 * variable, and worse when they are a guessable credential.
 */
const PLACEHOLDERS = [
  /^changeme$/i,
  /^change[-_ ]?me[-_ ]?(please|now)?$/i,
  /^replace[-_ ]?me$/i,
  /^your[-_].*[-_]here$/i,
  /^<[^>]*>$/,
  /^\$\{[^}]*\}$/,
  /^(todo|tbd|fixme|xxx+|placeholder|example|dummy|secret|password|none|null|undefined)$/i,
  /^(sk|pk)[-_](test|live)?[-_]?x{4,}$/i,
  /^x{4,}$/i,
];

export function isPlaceholder(value: string): boolean {
  const trimmed = value.trim();
  return PLACEHOLDERS.some((pattern) => pattern.test(trimmed));
}
