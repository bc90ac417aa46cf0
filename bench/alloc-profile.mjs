// Where the gateway allocates, per request: an in-process Vigil (dist/, so `npm run build` first)
// with the bench's route (API-key auth, metrics, access log to a file, access records), loaded by
// wrk from outside, under V8's sampling heap profiler with collected objects included, so the
// figures are allocation *rates* (what feeds the garbage collector), not what stays live. On a
// shared machine this is steadier than req/s: it counts bytes, not time.
//
//   node bench/alloc-profile.mjs [seconds=5] [count=30] [--tracing] [--stacks]
//
// Prints bytes allocated per request (estimated from the samples) and the functions that
// allocate the most (self), with their share. Needs wrk.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const { App } = await import('../dist/app.js');
const { parseConfig } = await import('../dist/config/load.js');

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const seconds = Number(args[0] ?? 5);
const count = Number(args[1] ?? 30);
const tracing = process.argv.includes('--tracing');

const dir = mkdtempSync(join(tmpdir(), 'vigil-alloc-'));
const upstream = spawn(process.execPath, [join(BENCH_DIR, 'upstream.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
const upstreamPort = await new Promise((resolve) => upstream.stdout.once('data', (d) => resolve(JSON.parse(String(d).split('\n')[0]).port)));
const config = {
  gateway: { listen: { port: 0 }, routes: [{ name: 'bench', prefix: '/v1/', upstream: `http://127.0.0.1:${upstreamPort}` }] },
  console: { listen: { port: 0 } },
  store: { dataDir: join(dir, 'data') },
  log: { level: 'info', format: 'json' },
  ...(tracing ? { tracing: { enabled: true, endpoint: `http://127.0.0.1:${upstreamPort}/v1/traces`, sampleRatio: 0.1 } } : {}),
};
const app = new App(parseConfig(JSON.stringify(config), 'alloc.yaml', {}), { env: {}, logDestination: pino.destination({ dest: join(dir, 'vigil.log'), sync: false }) });
await app.start();
const { plaintext } = await app.keys.create({ name: 'bench', scopes: [], expiresAt: null, now: Date.now() });
await app.keyCache.refresh();
const url = `http://127.0.0.1:${app.gateway.address().port}/v1/ping`;

function wrk(duration) {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', '-c50', `-d${duration}s`, '-s', join(BENCH_DIR, 'report.lua'), url], {
      env: { ...process.env, BENCH_AUTHORIZATION: `Bearer ${plaintext}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (!line) reject(new Error(`wrk failed:\n${out}`));
      else resolve(JSON.parse(line.slice('BENCH_RESULT '.length)));
    });
  });
}

await wrk(2); // warm-up: JIT, pools, caches
const session = new Session();
session.connect();
await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
const result = await wrk(seconds);
const { profile } = await session.post('HeapProfiler.stopSampling');
session.disconnect();

const byFunction = new Map();
let total = 0;
/** Bytes per "function <- caller <- caller's caller", to tell apart who makes a builtin allocate. */
const byStack = new Map();
const frameName = (frame) => {
  const { functionName, url: file, lineNumber } = frame;
  const short = file ? file.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '').replace(`${dirname(BENCH_DIR)}/`, '') : '';
  return `${functionName || '(anonymous)'}  ${short}${file ? `:${lineNumber + 1}` : ''}`;
};
const walk = (node, parents) => {
  const key = frameName(node.callFrame);
  byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
  const stack = [key, ...parents.slice(0, 3)].join('  <-  ');
  byStack.set(stack, (byStack.get(stack) ?? 0) + node.selfSize);
  total += node.selfSize;
  for (const child of node.children) walk(child, [key, ...parents]);
};
walk(profile.head, []);
const requests = result.requests;
console.log(`${requests} requests in ${seconds} s (${Math.round(requests / seconds)} req/s), ${result.errors.status} non-2xx`);
console.log(`allocated ≈ ${Math.round(total / requests)} bytes per request (sampling heap profiler, collected objects included)\n`);
console.log('bytes/req  share  function');
for (const [key, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, count)) {
  console.log(`${String(Math.round(bytes / requests)).padStart(9)}  ${((100 * bytes) / total).toFixed(1).padStart(4)}%  ${key}`);
}
if (process.argv.includes('--stacks')) {
  console.log('\nbytes/req  allocation site with its three callers');
  for (const [stack, bytes] of [...byStack].sort((x, y) => y[1] - x[1]).slice(0, count)) console.log(`${String(Math.round(bytes / requests)).padStart(9)}  ${stack}`);
}
await app.stop();
upstream.kill();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
