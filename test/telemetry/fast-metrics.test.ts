import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../../src/telemetry/fast-metrics.js';

describe('fast metrics (no label hashing per record)', () => {
  it("expose exactly what prom-client's Counter and Histogram expose for the same observations", async () => {
    const bounds = [0.001, 0.01, 0.1, 1];
    const values = [0.0005, 0.001, 0.002, 0.05, 0.05, 0.5, 3, 0];
    const fast = new Registry();
    const reference = new Registry();
    const fc = new FastCounter('x_requests_total', 'Requests.', fast);
    const fh = new FastHistogram('x_duration_seconds', 'Duration.', bounds, fast);
    const rc = new Counter({ name: 'x_requests_total', help: 'Requests.', labelNames: ['route', 'status'], registers: [reference] });
    const rh = new Histogram({ name: 'x_duration_seconds', help: 'Duration.', labelNames: ['route'], buckets: bounds, registers: [reference] });
    for (const route of ['a', 'b "quoted"']) {
      const ok = fc.series({ route, status: '200' });
      const series = fh.series({ route });
      for (const v of values) {
        ok.value++;
        rc.inc({ route, status: '200' });
        series.observe(v);
        rh.observe({ route }, v);
      }
    }
    assert.equal(await fast.metrics(), await reference.metrics());
    // JSON too, apart from prom-client's exemplar placeholders (exemplars are not used).
    const json = async (registry: Registry) =>
      (await registry.getMetricsAsJSON()).map((m) => ({ ...m, values: m.values.map((v) => ({ labels: v.labels, value: v.value, metricName: (v as { metricName?: string }).metricName })) }));
    assert.deepEqual(await json(fast), await json(reference));
    fast.resetMetrics();
    assert.match(await fast.metrics(), /x_requests_total\{route="a",status="200"\} 0/);
    assert.match(await fast.metrics(), /x_duration_seconds_count\{route="a"\} 0/);
  });
});
