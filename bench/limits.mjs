// Cost of Vigil's rate limits: wrk against the gateway with limits off, with a memory-store limit
// and with a Redis-store limit (same route, `auth: none`, so only the limiter differs), in
// interleaved rounds, reported as throughput ratios to "off". Targets: memory < 5 %, Redis < 25 %.
//
//   npm run build && node bench/limits.mjs [--duration 10s] [--rounds 3] [--connections 50] [--redis redis://127.0.0.1:6379/15]
//
// The limit is set far above what wrk can send, so every request is admitted and the figures are
// for the counted, forwarded path, never for fast 429s (the harness checks the statuses). Each run
// uses its own Redis key prefix and deletes its keys at the end.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const VIGIL_MAIN = join(resolve(BENCH_DIR, '..'), 'dist', 'cli', 'main.js');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const duration = option('duration', '10s');
const rounds = Number(option('rounds', '3'));
const connections = option('connections', '50');
const redisUrl = option('redis', 'redis://127.0.0.1:6379/15');
const prefix = `vglbench:${randomBytes(4).toString('hex')}:`;

if (spawnSync('wrk', ['--version']).error) {
  console.error('wrk is not installed (apt-get install -y wrk)');
  process.exit(2);
}

function readyLine(child, what) {
  return new Promise((resolveLine, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line.startsWith('{"ready"')) resolveLine(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
  });
}

const children = [];
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-limits-'));
chmodSync(dir, 0o700);
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const upstream = spawn(process.execPath, [join(BENCH_DIR, 'upstream.mjs'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
children.push(upstream);
const { port: upstreamPort } = await readyLine(upstream, 'upstream');

const limits = { limits: [{ name: 'bench', by: 'ip', limit: 1_000_000, window: '1s', burst: 1_000_000 }] };
const targets = {
  off: {},
  memory: { rateLimits: limits },
  redis: { rateLimits: { store: 'redis', ...limits } },
};

async function startVigil(name, rateLimits) {
  const dataDir = join(dir, name);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const config = join(dir, `${name}.yaml`);
  const route = { name: 'bench', prefix: '/', upstream: `http://127.0.0.1:${upstreamPort}`, auth: 'none', ...rateLimits };
  writeFileSync(
    config,
    JSON.stringify({
      gateway: { listen: { port }, routes: [route] },
      console: { listen: { port: 0 } },
      store: { dataDir },
      log: { level: 'warn', accessLog: false },
      protection: { redis: { url: redisUrl, keyPrefix: prefix } },
    }),
  );
  // stderr to a file: the first start prints the bootstrap owner's one-time password there.
  const errors = openSync(join(dir, `${name}.err`), 'w');
  const child = spawn(process.execPath, [VIGIL_MAIN, 'start', '--config', config], { stdio: ['ignore', 'ignore', errors], env: { ...process.env, VIGIL_MASTER_KEY: randomBytes(32).toString('base64') } });
  children.push(child);
  for (let i = 0; i < 200; i++) {
    const probe = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/`]);
    if (probe.stdout.toString() === '200') return `http://127.0.0.1:${port}/`;
    await sleep(100);
  }
  throw new Error(`vigil (${name}) did not answer 200`);
}

function wrk(url) {
  const out = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${duration}`, '--latency', url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out.stdout)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out.stdout)?.[1] ?? 0);
  if (non2xx > 0) throw new Error(`${non2xx} non-2xx answers from ${url}: the figures would include rejections`);
  return rps;
}

const urls = {};
for (const [name, extra] of Object.entries(targets)) urls[name] = await startVigil(name, extra);
const results = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const name of Object.keys(targets)) results[name].push(wrk(urls[name]));
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const off = median(results.off);
console.log(`rate limit cost, ${rounds} round(s) of ${duration}, ${connections} connections (median req/s, ratio to off)`);
for (const name of Object.keys(targets)) {
  const value = median(results[name]);
  console.log(`${name.padEnd(8)} ${value.toFixed(0).padStart(8)} req/s   ${(value / off).toFixed(3)}x   (${results[name].map((r) => r.toFixed(0)).join(', ')})`);
}
spawnSync('sh', ['-c', `redis-cli -u ${redisUrl} --scan --pattern '${prefix}*' | xargs -r redis-cli -u ${redisUrl} del`]);
process.exit(0);
