/* global performance */
// Open-loop, fixed-rate load: request i is due at start + i/rate, whatever the server does, and
// its latency is measured from that *scheduled* time, so a stalled server shows up as latency
// rather than as fewer requests sent (no coordinated omission, unlike wrk's closed loop).
//
// Requests leave evenly spaced, not in bursts: a pacer thread sleeps until each due time with
// `Atomics.wait` (a futex wait with a fractional-millisecond timeout, no CPU spent) and wakes the
// main thread, which sends everything due. Node's timers tick in whole milliseconds; pacing with
// them sends the requests due within each millisecond together (3–6 at once at proxy rates), and
// a single-threaded server at 50 % load then makes the median request wait ≈ 0.25 ms for the
// others in its burst, whatever its own speed. The pacer's lateness (time from due to sent) is
// reported: it is part of every latency, the same for every target.
//
//   BENCH_AUTHORIZATION='Bearer …' node bench/fixed-rate.mjs <url> <rate/s> <seconds> [warm-up s] [connections]
//
// Prints `BENCH_RESULT {json}`: sent, ok, non2xx, errors, send lateness and latency percentiles in µs.
import { Worker } from 'node:worker_threads';
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

// The pacer: for each due time (epoch ms, shared clock between threads), sleep until it, then post.
const PACER = `
const { parentPort } = require('node:worker_threads');
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const now = () => performance.timeOrigin + performance.now();
parentPort.on('message', ({ start, interval, total }) => {
  for (let i = 0; i < total; i++) {
    const wait = start + i * interval - now();
    if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);
    parentPort.postMessage(i);
  }
});
`;
const pacer = new Worker(PACER, { eval: true });
const epochNow = () => performance.timeOrigin + performance.now();

/** Runs the schedule for `duration` s; resolves with the latencies (ms) of the requests answered 2xx. */
function run(duration) {
  const total = Math.floor(rate * duration);
  const interval = 1000 / rate;
  const latencies = new Float64Array(total);
  const lateness = new Float64Array(total);
  let answered = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  const start = epochNow() + 20;
  return new Promise((resolve) => {
    const done = () => {
      if (answered + non2xx + errors < total) return;
      pacer.off('message', due);
      resolve({ sent, latencies: latencies.subarray(0, answered), lateness, non2xx, errors });
    };
    const send = (scheduled) => {
      pool.request({ path, method: 'GET', headers }).then(
        async ({ statusCode, body }) => {
          await body.dump();
          if (statusCode >= 200 && statusCode < 300) latencies[answered++] = epochNow() - scheduled;
          else non2xx++;
          done();
        },
        () => {
          errors++;
          done();
        },
      );
    };
    // Sends every request due by now (normally the one the pacer woke us for; more if this thread lagged).
    const due = (index) => {
      const now = epochNow();
      while (sent <= index) {
        const scheduled = start + sent * interval;
        lateness[sent++] = now - scheduled;
        send(scheduled);
      }
    };
    pacer.on('message', due);
    pacer.postMessage({ start, interval, total });
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
const late = Float64Array.from(result.lateness).sort();
const us = (ms) => (ms === null ? null : Math.round(ms * 1000));
console.log(
  `BENCH_RESULT ${JSON.stringify({
    rate,
    seconds,
    sent: result.sent,
    ok: sorted.length,
    non2xx: result.non2xx,
    errors: result.errors,
    sendLateness_us: { p50: us(percentile(late, 50)), p99: us(percentile(late, 99)), max: us(late[late.length - 1] ?? null) },
    latency_us: { p50: us(percentile(sorted, 50)), p90: us(percentile(sorted, 90)), p99: us(percentile(sorted, 99)), p999: us(percentile(sorted, 99.9)), max: us(sorted[sorted.length - 1] ?? null) },
  })}`,
);
await pool.close();
await pacer.terminate();
