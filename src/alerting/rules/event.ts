import type { EventRuleConfig } from '../../config/alert-rule-schema.js';
import type { SecurityEvent } from '../../store/records.js';
import type { Judgement, RuleEvaluator } from './types.js';
import { levelOf } from './types.js';

/** Bounds on what one event rule keeps in memory, however hard it is attacked. */
const MAX_SUBJECTS = 10_000;
const MAX_EVENTS_PER_SUBJECT = 10_000;

/**
 * Event rules: counts security events of some types in a sliding window, per value of `by`
 * (e.g. per source IP). Memory is bounded: the oldest subject makes room for a new one.
 */
export class EventEvaluator implements RuleEvaluator {
  readonly trigger = 'security.event';
  private readonly seen = new Map<string, number[]>();
  private readonly exact: ReadonlySet<string>;
  private readonly prefixes: readonly string[];

  constructor(readonly config: EventRuleConfig) {
    this.exact = new Set(config.types.filter((type) => !type.endsWith('*')));
    this.prefixes = config.types.filter((type) => type.endsWith('*')).map((type) => type.slice(0, -1));
  }

  /** Whether the rule counts events of this type (`prefix*` or exact). Allocates nothing: it runs for every event on the bus. */
  matches(event: SecurityEvent): boolean {
    if (this.exact.has(event.type)) return true;
    for (const prefix of this.prefixes) if (event.type.startsWith(prefix)) return true;
    return false;
  }

  /** Counts an event of a matching type; false when the type does not match. */
  observe(event: SecurityEvent): boolean {
    if (!this.matches(event)) return false;
    const subject = this.config.by === undefined ? '' : (event[this.config.by] ?? 'none');
    let times = this.seen.get(subject);
    if (times === undefined) {
      if (this.seen.size >= MAX_SUBJECTS) {
        const oldest = this.seen.keys().next().value;
        if (oldest !== undefined) this.seen.delete(oldest);
      }
      times = [];
      this.seen.set(subject, times);
    }
    times.push(event.at);
    if (times.length > MAX_EVENTS_PER_SUBJECT) times.shift();
    return true;
  }

  evaluate(now: number): Promise<Map<string, Judgement>> {
    const { config } = this;
    const judgements = new Map<string, Judgement>();
    for (const [subject, times] of this.seen) {
      while (times.length > 0 && (times[0] ?? now) <= now - config.window) times.shift();
      if (times.length === 0) {
        this.seen.delete(subject);
        continue;
      }
      const labels: Record<string, string> = config.by === undefined ? {} : { [config.by]: subject };
      const key = config.by === undefined ? '' : `${config.by}=${JSON.stringify(subject)}`;
      judgements.set(key, { labels, value: times.length, level: levelOf(times.length, config.op, config.warning, config.critical) });
    }
    return Promise.resolve(judgements);
  }
}
