/* global performance */
// Open-loop, fixed-rate load: requests are sent on a schedule (every 1/rate s, whatever the server
// does) and each latency is measured from its *scheduled* time, so a stalled server shows up as
// latency rather than as fewer requests sent (no coordinated omission, unlike wrk's closed loop).
// The schedule runs on a 1 ms timer: requests due in the same millisecond leave together, and
// that (equal for every target) is part of each latency.
//
//   BENCH_AUTHORIZATION='Bearer …' node bench/fixed-rate.mjs <url> <rate/s> <seconds> [warm-up s] [connections]
//
// Prints `BENCH_RESULT {json}`: sent, ok, non2xx, errors, latency percentiles in µs.
import { Pool } from 'undici';

const [url, rateArg, secondsArg, warmupArg = '2', connectionsArg = '64'] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
if (!url || !(rate > 0) || !(seconds > 0)) {
  console.error('usage: node bench/fixed-rate.mjs <url> <rate/s> <seconds> [warm-up s] [connections]');
  process.exit(2);
}
const target = new URL(url);
const pool = new Pool(target.origin, { connections: Number(connectionsArg), pipelining: 1, keepAliveTimeout: 10_000 });
const headers = process.env.BENCH_AUTHORIZATION ? { authorization: process.env.BENCH_AUTHORIZATION } : {};
const path = target.pathname + target.search;

/** Runs the schedule for `duration` s; resolves with the latencies (ms) of the requests answered 2xx. */
function run(duration) {
  const total = Math.floor(rate * duration);
  const interval = 1000 / rate;
  const latencies = new Float64Array(total);
  let answered = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  let maxLagMs = 0;
  const start = performance.now() + 20;
  return new Promise((resolve) => {
    const done = () => {
      if (answered + non2xx + errors === total) resolve({ sent, latencies: latencies.subarray(0, answered), non2xx, errors, maxLagMs });
    };
    const send = (scheduled) => {
      pool.request({ path, method: 'GET', headers }).then(
        async ({ statusCode, body }) => {
          await body.dump();
          if (statusCode >= 200 && statusCode < 300) latencies[answered++] = performance.now() - scheduled;
          else non2xx++;
          done();
        },
        () => {
          errors++;
          done();
        },
      );
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        const scheduled = start + sent * interval;
        maxLagMs = Math.max(maxLagMs, now - scheduled);
        sent++;
        send(scheduled);
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    setTimeout(tick, 20);
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const warmup = Number(warmupArg);
if (warmup > 0) await run(warmup);
const result = await run(seconds);
const sorted = Float64Array.from(result.latencies).sort();
const us = (ms) => (ms === null ? null : Math.round(ms * 1000));
console.log(
  `BENCH_RESULT ${JSON.stringify({
    rate,
    seconds,
    sent: result.sent,
    ok: sorted.length,
    non2xx: result.non2xx,
    errors: result.errors,
    schedulerMaxLagUs: us(result.maxLagMs),
    latency_us: { p50: us(percentile(sorted, 50)), p90: us(percentile(sorted, 90)), p99: us(percentile(sorted, 99)), p999: us(percentile(sorted, 99.9)), max: us(sorted[sorted.length - 1] ?? null) },
  })}`,
);
await pool.close();
