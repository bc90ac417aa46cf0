import type { CheckStateRuleConfig } from '../../config/alert-rule-schema.js';
import type { CheckResult } from '../../store/records.js';
import type { Judgement, RuleEvaluator } from './types.js';

/**
 * Check-state rules (`checkState`, formerly `checkDown`): a check is down when its latest result
 * is down. A `pending` result (retries not used up) is no evidence either way, and a check with no
 * result since the start is unknown, so a restored alert neither fires again nor resolves on no news.
 */
export class CheckStateEvaluator implements RuleEvaluator {
  readonly trigger = 'check.result';
  private readonly latest = new Map<string, CheckResult>();
  private readonly watched: string[];

  constructor(readonly config: CheckStateRuleConfig, checks: ReadonlyMap<string, string>) {
    const { check, checkTypes } = config;
    this.watched = check !== undefined ? [check] : [...checks].filter(([, type]) => checkTypes === undefined || checkTypes.includes(type)).map(([name]) => name);
  }

  /** Whether the result is news for this rule: a settled result of a watched check. */
  matches(result: CheckResult): boolean {
    return result.status !== 'pending' && this.watched.includes(result.check);
  }

  observe(result: CheckResult): boolean {
    if (!this.matches(result)) return false;
    this.latest.set(result.check, result);
    return true;
  }

  evaluate(): Promise<Map<string, Judgement>> {
    const judgements = new Map<string, Judgement>();
    for (const check of this.watched) {
      // One rule for one check keeps the rule name as its alert ID, as the `checkDown` rule did.
      const key = this.config.check !== undefined ? '' : `check=${JSON.stringify(check)}`;
      const result = this.latest.get(check);
      if (result === undefined) judgements.set(key, 'unknown');
      else judgements.set(key, { labels: { check }, value: result.value ?? null, level: result.status === 'down' ? this.config.severity : null, detail: result.detail });
    }
    return Promise.resolve(judgements);
  }
}
