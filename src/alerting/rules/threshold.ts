import type { ThresholdRuleConfig } from '../../config/alert-rule-schema.js';
import type { Judgement, MetricRead, MetricReader, RuleEvaluator, Series } from './types.js';
import { levelOf, subjectKey } from './types.js';

/** One reading of a subject: the summed value; for a histogram its count, sum and cumulative buckets. */
export interface Sample {
  at: number;
  value: number;
  sum?: number;
  buckets?: Map<number, number>;
}

/** Most samples a subject keeps, whatever the window and interval. */
const MAX_SAMPLES = 2000;

interface Subject {
  labels: Record<string, string>;
  num: Sample[];
  den: Sample[];
  seenAt: number;
}

/**
 * Threshold rules: each evaluation reads the metric (and `divideBy`) from the registry, sums the
 * matching series per subject (`by` labels), keeps the samples of the window in a small ring, and
 * compares the aggregate with the warning and critical levels.
 */
export class ThresholdEvaluator implements RuleEvaluator {
  readonly trigger = 'timer';
  private readonly subjects = new Map<string, Subject>();
  private readonly matchers: [string, RegExp][];
  private readonly denMatchers: [string, RegExp][];

  constructor(readonly config: ThresholdRuleConfig) {
    this.matchers = compileMatchers(config.match);
    this.denMatchers = compileMatchers(config.divideBy?.match ?? {});
  }

  async evaluate(now: number, read: MetricReader): Promise<Map<string, Judgement>> {
    const { config } = this;
    const num = await read(config.metric);
    const den = config.divideBy ? await read(config.divideBy.metric ?? config.metric) : undefined;
    const numSamples = num ? groupSamples(num, config.metric, this.matchers, config.by, now) : new Map<string, [Record<string, string>, Sample]>();
    const denSamples = den ? groupSamples(den, config.divideBy?.metric ?? config.metric, this.denMatchers, config.by, now) : undefined;
    const window = config.window ?? 0;
    // A subject the denominator has and the numerator lacks (no 5xx series yet) has a numerator of 0.
    for (const [key, [labels]] of denSamples ?? []) if (!numSamples.has(key)) numSamples.set(key, [labels, { at: now, value: 0 }]);
    for (const [key, [labels, sample]] of numSamples) {
      let subject = this.subjects.get(key);
      if (subject === undefined) {
        subject = { labels, num: [], den: [], seenAt: now };
        this.subjects.set(key, subject);
      }
      subject.seenAt = now;
      keep(subject.num, sample, now, window);
      const d = denSamples?.get(key)?.[1];
      if (d !== undefined) keep(subject.den, d, now, window);
    }
    const judgements = new Map<string, Judgement>();
    for (const [key, subject] of this.subjects) {
      if (subject.seenAt !== now) {
        // The series is gone: forget it once its window has passed, judge it clear meanwhile.
        if (now - subject.seenAt > window) this.subjects.delete(key);
        continue;
      }
      const value = this.value(subject, now);
      if (value === undefined) judgements.set(key, 'unknown');
      else judgements.set(key, { labels: subject.labels, value, level: levelOf(value, config.op, config.warning, config.critical) });
    }
    return judgements;
  }

  /** The aggregate for one subject; undefined when the samples do not yet allow it. */
  private value(subject: Subject, now: number): number | undefined {
    const { aggregate, divideBy } = this.config;
    const window = this.config.window ?? 0;
    const num = aggregateOf(aggregate, subject.num, now, window);
    if (divideBy === undefined || num === undefined) return num;
    const den = aggregateOf(aggregate, subject.den, now, window);
    if (den === undefined) return undefined;
    return den === 0 ? Number.NaN : num / den;
  }
}

export function compileMatchers(match: Record<string, string>): [string, RegExp][] {
  return Object.entries(match).map(([label, pattern]) => [label, new RegExp(`^(?:${pattern})$`)]);
}

export function matches(labels: Record<string, string | number>, matchers: [string, RegExp][]): boolean {
  return matchers.every(([label, re]) => re.test(String(labels[label] ?? '')));
}

/** Sums the matching series per subject; for a histogram also its `_sum` and cumulative buckets. */
export function groupSamples(read: MetricRead, metric: string, matchers: [string, RegExp][], by: readonly string[], at: number): Map<string, [Record<string, string>, Sample]> {
  const groups = new Map<string, [Record<string, string>, Sample]>();
  const histogram = read.type === 'histogram';
  for (const series of read.series) {
    const { le, ...labels } = series.labels;
    if (!matches(labels, matchers)) continue;
    const subject = Object.fromEntries(by.map((label) => [label, labels[label] ?? '']));
    const key = subjectKey(subject);
    let entry = groups.get(key);
    if (entry === undefined) {
      entry = [subject, histogram ? { at, value: 0, sum: 0, buckets: new Map() } : { at, value: 0 }];
      groups.set(key, entry);
    }
    addSeries(entry[1], series, metric, histogram, le);
  }
  return groups;
}

function addSeries(sample: Sample, series: Series, metric: string, histogram: boolean, le: string | undefined): void {
  if (!histogram) {
    sample.value += series.value;
    return;
  }
  if (series.name === `${metric}_count`) sample.value += series.value;
  else if (series.name === `${metric}_sum`) sample.sum = (sample.sum ?? 0) + series.value;
  else if (series.name === `${metric}_bucket` && le !== undefined) {
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    sample.buckets?.set(bound, (sample.buckets.get(bound) ?? 0) + series.value);
  }
}

/** Appends a sample and drops those older than the window, keeping one before it as the baseline. */
function keep(ring: Sample[], sample: Sample, now: number, window: number): void {
  ring.push(sample);
  let drop = 0;
  while (drop + 1 < ring.length && (ring[drop + 1]?.at ?? now) <= now - window) drop++;
  if (window === 0) drop = ring.length - 1;
  drop = Math.max(drop, ring.length - MAX_SAMPLES);
  if (drop > 0) ring.splice(0, drop);
}

/** Increase of a counter between the first and last sample, counting a drop as a reset (as Prometheus does). */
function increaseOf(values: number[]): number {
  let total = 0;
  for (let i = 1; i < values.length; i++) {
    const prev = values[i - 1] ?? 0;
    const cur = values[i] ?? 0;
    total += cur >= prev ? cur - prev : cur;
  }
  return total;
}

export function aggregateOf(aggregate: ThresholdRuleConfig['aggregate'], ring: Sample[], now: number, window: number): number | undefined {
  const last = ring[ring.length - 1];
  if (last === undefined || last.at !== now) return undefined;
  if (aggregate === 'instant') return last.value;
  const inWindow = ring.filter((s) => s.at >= now - window);
  const histogram = last.buckets !== undefined;
  switch (aggregate) {
    case 'increase':
    case 'ratio':
      return ring.length < 2 ? undefined : increaseOf(ring.map((s) => s.value));
    case 'rate': {
      const first = ring[0];
      if (ring.length < 2 || first === undefined) return undefined;
      return increaseOf(ring.map((s) => s.value)) / ((last.at - first.at) / 1000);
    }
    case 'avg':
      if (histogram) {
        if (ring.length < 2) return undefined;
        const count = increaseOf(ring.map((s) => s.value));
        return count === 0 ? Number.NaN : increaseOf(ring.map((s) => s.sum ?? 0)) / count;
      }
      return inWindow.reduce((sum, s) => sum + s.value, 0) / inWindow.length;
    case 'min':
      return Math.min(...inWindow.map((s) => s.value));
    case 'max':
      return Math.max(...inWindow.map((s) => s.value));
    case 'p95':
      if (histogram) return ring.length < 2 ? undefined : histogramQuantile(0.95, bucketIncrease(ring));
      return quantile(0.95, inWindow.map((s) => s.value));
  }
}

/** Per-bucket increase over the ring (cumulative counts per upper bound). */
function bucketIncrease(ring: Sample[]): Map<number, number> {
  const bounds = new Set<number>();
  for (const s of ring) for (const bound of s.buckets?.keys() ?? []) bounds.add(bound);
  return new Map([...bounds].map((bound) => [bound, increaseOf(ring.map((s) => s.buckets?.get(bound) ?? 0))]));
}

/** Prometheus' histogram_quantile: linear interpolation inside the bucket the rank falls in. */
export function histogramQuantile(q: number, buckets: Map<number, number>): number {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted[sorted.length - 1]?.[1] ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return lowerBound;
      return lowerBound + (bound - lowerBound) * ((rank - lowerCount) / Math.max(count - lowerCount, Number.MIN_VALUE));
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}

/** Nearest-rank quantile of plain values. */
function quantile(q: number, values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}
