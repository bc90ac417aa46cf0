const PLACEHOLDER = /\{\{\s*(.*?)\s*\}\}/g;

/** A value as annotations show it: at most 4 significant digits, no exponent for ordinary magnitudes. */
export function formatValue(value: number | null): string {
  if (value === null) return '';
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

/**
 * Renders `{{ $labels.name }}` and `{{ $value }}` (validated at config load). A label the alert
 * does not carry renders as the empty string, as in Prometheus.
 */
export function renderTemplate(text: string, labels: Record<string, string>, value: number | null): string {
  return text.replace(PLACEHOLDER, (_all, inner: string) => {
    if (inner === '$value') return formatValue(value);
    const label = /^\$labels\.(\w+)$/.exec(inner)?.[1];
    return label === undefined ? '' : (labels[label] ?? '');
  });
}
