import type { CheckOutcome } from './check.js';
import { evaluateConditions } from './conditions.js';
import type { Condition, Facts } from './conditions.js';

/**
 * The outcome of a run that reached its target: up with `detail` when every condition holds, else
 * down with the first failed condition as the detail.
 */
export function judge(conditions: readonly Condition[], facts: Facts, latencyMs: number, detail: string, value?: number): CheckOutcome {
  const verdict = evaluateConditions(conditions, { RESPONSE_TIME: latencyMs, ...facts });
  const base = value === undefined ? {} : { value };
  if (verdict.ok) return { status: 'up', latencyMs, detail, ...base };
  return { status: 'down', latencyMs, detail: verdict.reason ?? 'condition failed', ...base };
}

/** A down outcome for a run that failed before it could be judged. */
export function down(latencyMs: number, detail: string): CheckOutcome {
  return { status: 'down', latencyMs, detail };
}

/** The error's system code only (`ECONNREFUSED`); messages can quote hosts, paths and credentials. */
export function codeOf(err: unknown): string {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,64}$/.test(code)) return code;
  }
  return err instanceof Error ? err.name : 'error';
}
