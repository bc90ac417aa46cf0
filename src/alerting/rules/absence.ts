import type { AbsenceRuleConfig } from '../../config/alert-rule-schema.js';
import type { Judgement, MetricReader, RuleEvaluator } from './types.js';
import { compileMatchers, matches } from './threshold.js';

/**
 * Absence rules: no data is no matching series at all, or, with `stale`, a summed value that has
 * not changed for that long (a counter that stopped counting, a gauge nobody updates).
 */
export class AbsenceEvaluator implements RuleEvaluator {
  readonly trigger = 'timer';
  private readonly matchers: [string, RegExp][];
  private last: { value: number; changedAt: number } | undefined;

  constructor(readonly config: AbsenceRuleConfig) {
    this.matchers = compileMatchers(config.match);
  }

  async evaluate(now: number, read: MetricReader): Promise<Map<string, Judgement>> {
    const { config } = this;
    const series = (await read(config.metric))?.series.filter((s) => matches(s.labels, this.matchers)) ?? [];
    let absent = series.length === 0;
    let detail = `no series of ${config.metric} matches`;
    if (absent) this.last = undefined;
    else {
      const value = series.reduce((sum, s) => sum + s.value, 0);
      if (this.last === undefined || this.last.value !== value) this.last = { value, changedAt: now };
      if (config.stale !== undefined && now - this.last.changedAt >= config.stale) {
        absent = true;
        detail = `${config.metric} has not changed since ${new Date(this.last.changedAt).toISOString()}`;
      }
    }
    return new Map([['', { labels: {}, value: null, level: absent ? config.severity : null, detail }]]);
  }
}
