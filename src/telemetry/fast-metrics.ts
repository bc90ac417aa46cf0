import type { Metric, Registry } from 'prom-client';

/**
 * Metrics for the request path whose label sets are resolved once: `series(labels)` returns a
 * handle the caller keeps, and recording is a field update. prom-client's own label children
 * hash their label object on every `inc()`/`observe()` (a string built per call, ≈ 1.2 KB of
 * garbage per gateway request over four metrics; bench/README.md). Exposed in the registry like
 * any prom-client metric (text and JSON); values are read at scrape time.
 */
interface Exported {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName?: string;
}

abstract class FastMetric<H> {
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  readonly aggregator = 'sum';
  protected readonly all: H[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    // Structurally what the registry reads (name, help, type, aggregator, get, reset).
    registry.registerMetric(this as unknown as Metric);
  }

  protected abstract values(): Exported[];
  abstract reset(): void;

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Exported[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }
}

export interface CounterSeries {
  readonly labels: Readonly<Record<string, string>>;
  value: number;
}

/** One number per label set, read as is at scrape time: the shared body of counters and gauges. */
abstract class FastValueMetric extends FastMetric<CounterSeries> {
  series(labels: Readonly<Record<string, string>>): CounterSeries {
    const series = { labels, value: 0 };
    this.all.push(series);
    return series;
  }

  protected values(): Exported[] {
    return this.all.map((s) => ({ labels: s.labels, value: s.value }));
  }

  reset(): void {
    for (const s of this.all) s.value = 0;
  }
}

/** A counter; `series(labels).value++` counts. */
export class FastCounter extends FastValueMetric {
  readonly type = 'counter';
}

/** A gauge; `series(labels).value += delta`. */
export class FastGauge extends FastValueMetric {
  readonly type = 'gauge';
}

/** One label set of a histogram: counts per bucket (not cumulative), sum and count. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const { bounds } = this;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (this.counts[i] as number)++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

/** A histogram with fixed upper bounds; `series(labels).observe(v)`. */
export class FastHistogram extends FastMetric<HistogramSeries> {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, registry);
  }

  series(labels: Readonly<Record<string, string>>): HistogramSeries {
    const series = new HistogramSeries(labels, this.bounds);
    this.all.push(series);
    return series;
  }

  protected values(): Exported[] {
    const out: Exported[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.all) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.counts[i] as number;
        out.push({ labels: { le, ...s.labels }, value: cumulative, metricName: bucket });
      });
      out.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: bucket });
      out.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      out.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return out;
  }

  reset(): void {
    for (const s of this.all) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
