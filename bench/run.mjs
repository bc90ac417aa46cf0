/* global clearTimeout, Buffer, performance */
// Vigil gateway benchmark: wrk against the same upstream directly, through a Node TCP pipe
// (bench/tcp-pipe.mjs, the cheapest a Node proxy can be), the bare undici proxy (bench/bare-proxy.mjs, the
// reference), nginx proxy_pass with upstream keep-alive, an Express
// stack (bench/express-proxy.mjs) and Vigil with its full default pipeline (API-key auth, rate
// limit, metrics, access log, tracing sampled to an OTLP sink), in one run; then the added latency
// of each at a fixed moderate rate (bench/fixed-rate.mjs, open loop).
//
//   npm run build && npm run bench
//   node bench/run.mjs --duration 10s --connections 50 --threads 2 --rounds 3 --pin split
//   node bench/run.mjs --help
//
// Every option also reads an environment variable (BENCH_DURATION, BENCH_CONNECTIONS, ...).
// Results: a table on stdout and a JSON file in bench/results/ (gitignored).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { cpus, release, tmpdir, totalmem, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { summarizeProfile } from './profile-top.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const VIGIL_MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const LUA = join(BENCH_DIR, 'report.lua');
const RESULTS_DIR = join(BENCH_DIR, 'results');
const PATH = '/v1/ping';
const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
const FIXED_RATE = join(BENCH_DIR, 'fixed-rate.mjs');

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

const OPTIONS = {
  duration: { env: 'BENCH_DURATION', default: '10s', help: 'wrk duration of each measured run' },
  warmup: { env: 'BENCH_WARMUP', default: '3s', help: 'wrk warm-up per target before measuring (results discarded)' },
  connections: { env: 'BENCH_CONNECTIONS', default: '50', help: 'wrk connections' },
  threads: { env: 'BENCH_THREADS', default: '1', help: 'wrk threads (one is plenty below ~40k req/s and adds least jitter on 2 CPUs)' },
  rounds: { env: 'BENCH_ROUNDS', default: '3', help: 'measured rounds; each round runs every target once, interleaved' },
  targets: {
    env: 'BENCH_TARGETS',
    default: 'direct,node-tcp,bare,nginx,express,vigil',
    help: 'comma list of: direct, node-tcp, bare, nginx, express, vigil, vigil-notrace, vigil-nolog, vigil-noauth',
  },
  'trace-ratio': { env: 'BENCH_TRACE_RATIO', default: '0.1', help: "Vigil's tracing.sampleRatio for the targets with tracing (spans exported to a loopback OTLP sink)" },
  'rate-limit': {
    env: 'BENCH_RATE_LIMIT',
    default: 'auto',
    help: "'on': a per-key rate limit (never reached) on Vigil's route; 'auto': on when the build supports route rateLimits; 'off'",
  },
  'fixed-rate': {
    env: 'BENCH_FIXED_RATE',
    default: 'auto',
    help: "req/s of the open-loop added-latency phase; 'auto': half of Vigil's median saturation throughput; 'off' to skip",
  },
  'fixed-duration': { env: 'BENCH_FIXED_DURATION', default: '10', help: 'seconds of each fixed-rate run (after 2 s of warm-up at the same rate)' },
  'fixed-rounds': { env: 'BENCH_FIXED_ROUNDS', default: '5', help: 'fixed-rate rounds, each running every target once, interleaved; latencies are medians over the rounds, added latency the median of the per-round differences' },
  pin: {
    env: 'BENCH_PIN',
    default: 'isolate',
    help: "'off'; 'isolate': the process under test alone on CPU 1, wrk and the rest on CPU 0; 'split': wrk on CPU 1, all servers on CPU 0 (taskset)",
  },
  quiet: { env: 'BENCH_QUIET', default: '15', help: "before each run wait (up to 2 min) until other processes use <= this % of one CPU; 'off' to skip" },
  'cpu-prof': { env: 'BENCH_CPU_PROF', default: 'off', help: "'on': profile the Vigil process (node --cpu-prof) and print its hottest functions" },
  'vigil-node-args': {
    env: 'BENCH_VIGIL_NODE_ARGS',
    default: '',
    help: "extra node flags for the Vigil processes, space-separated, e.g. '--max-semi-space-size=32' (GC tuning experiments)",
  },
};

function parseOptions(argv) {
  const values = {};
  for (const [name, spec] of Object.entries(OPTIONS)) values[name] = process.env[spec.env] ?? spec.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log('usage: node bench/run.mjs [options]\n');
      for (const [name, spec] of Object.entries(OPTIONS)) {
        console.log(`  --${name.padEnd(12)} ${spec.help} (env ${spec.env}, default ${spec.default})`);
      }
      process.exit(0);
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match || !(match[1] in OPTIONS)) fail(`unknown option '${arg}' (see --help)`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) fail(`option --${match[1]} needs a value`);
    values[match[1]] = value;
  }
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const dur = (name) => {
    if (!/^\d+(ms|s|m)?$/.test(values[name])) fail(`--${name} must look like 10s, 500ms or 1m`);
    return values[name];
  };
  const targets = values.targets.split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of targets) if (!(t in TARGETS)) fail(`unknown target '${t}' (known: ${Object.keys(TARGETS).join(', ')})`);
  if (!Object.keys(PINNING).includes(values.pin)) fail(`--pin must be one of ${Object.keys(PINNING).join(', ')}`);
  if (!['on', 'off'].includes(values['cpu-prof'])) fail("--cpu-prof must be 'on' or 'off'");
  if (values.quiet !== 'off') int('quiet', 0);
  const ratio = Number(values['trace-ratio']);
  if (!(ratio >= 0 && ratio <= 1)) fail('--trace-ratio must be between 0 and 1');
  if (!['on', 'off', 'auto'].includes(values['rate-limit'])) fail("--rate-limit must be 'on', 'off' or 'auto'");
  if (values['fixed-rate'] !== 'off' && values['fixed-rate'] !== 'auto') int('fixed-rate', 1);
  return {
    duration: dur('duration'),
    warmup: dur('warmup'),
    connections: int('connections', 1),
    threads: int('threads', 1),
    rounds: int('rounds', 1),
    targets,
    pin: values.pin,
    cpuProf: values['cpu-prof'] === 'on',
    quiet: values.quiet === 'off' ? null : Number(values.quiet),
    traceRatio: ratio,
    rateLimit: values['rate-limit'],
    fixedRate: values['fixed-rate'] === 'off' ? null : values['fixed-rate'] === 'auto' ? 'auto' : Number(values['fixed-rate']),
    fixedDuration: int('fixed-duration', 1),
    fixedRounds: int('fixed-rounds', 1),
    vigilNodeArgs: values['vigil-node-args'].split(/\s+/).filter(Boolean),
  };
}

/** What each target is. Vigil variants differ in the route's auth, the access log and tracing switches. */
const TARGETS = {
  direct: { label: 'direct upstream', kind: 'upstream' },
  bare: { label: 'bare undici proxy', kind: 'bare' },
  'node-tcp': { label: 'Node TCP pipe, no HTTP', kind: 'tcp' },
  nginx: { label: 'nginx proxy_pass, keep-alive', kind: 'nginx' },
  express: { label: 'Express stack', kind: 'express' },
  vigil: { label: 'Vigil, full pipeline', kind: 'vigil', auth: true, accessLog: true, tracing: true },
  'vigil-notrace': { label: 'Vigil, tracing off', kind: 'vigil', auth: true, accessLog: true, tracing: false },
  'vigil-nolog': { label: 'Vigil, access log off', kind: 'vigil', auth: true, accessLog: false, tracing: false },
  'vigil-noauth': { label: 'Vigil, auth: none', kind: 'vigil', auth: false, accessLog: true, tracing: false },
};

// ---------------------------------------------------------------------------------------------
// Child processes: every one is tracked and stopped on exit, error or signal
// ---------------------------------------------------------------------------------------------

const children = new Set();
let tempDir;

function track(child, name) {
  child.benchName = name;
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function alive(child) {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
async function stopChild(child, graceMs = 10_000) {
  if (!alive(child)) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (alive(child)) {
      console.error(`  ${child.benchName} did not stop within ${graceMs} ms; killing it`);
      child.kill('SIGKILL');
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    await Promise.all([...children].map((c) => stopChild(c)));
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  })();
  return cleaning;
}

// Last resort when the process exits some other way: nothing may outlive the harness.
process.on('exit', () => {
  for (const child of children) if (alive(child)) child.kill('SIGKILL');
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping children`);
    cleanup().finally(() => process.exit(130));
  });
}

function fail(message) {
  const err = new Error(message);
  err.benchFailure = true;
  throw err;
}

/** CPU placement: where servers start and where wrk runs (null = wherever the kernel likes). */
const PINNING = {
  off: { servers: null, wrk: null, text: 'off (all processes share both CPUs)' },
  isolate: { servers: 0, wrk: 0, text: 'the process under test alone on CPU 1; wrk, the upstream (unless under test) and idle servers on CPU 0' },
  split: { servers: 0, wrk: 1, text: 'wrk on CPU 1; upstream and proxies on CPU 0' },
};

/** The command prefixed with taskset when pinning puts it on a CPU. */
function pinned(cpu, command, args) {
  return cpu === null ? [command, args] : ['taskset', ['-c', String(cpu), command, ...args]];
}

/** --pin isolate: moves the process under test (all its threads) to CPU 1 and every other server to CPU 0. */
function placeServers(opts, servers, underTest) {
  if (opts.pin !== 'isolate') return;
  for (const server of servers) {
    const cpu = server.name === underTest ? '1' : '0';
    // Every process of the server: nginx's worker is a child of its master.
    for (const pid of processTree(server.child.pid)) {
      const moved = spawnSync('taskset', ['-a', '-p', '-c', cpu, String(pid)], { encoding: 'utf8' });
      if (moved.status !== 0) fail(`taskset could not move ${server.name} (pid ${pid}) to CPU ${cpu}: ${moved.stderr}`);
    }
  }
}

/** A process and all its descendants (Linux /proc). */
function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const tid of readdirSync(`/proc/${out[i]}/task`)) {
        const children = readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').trim();
        if (children) out.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * nginx as the reference native proxy: one worker (one core, as Vigil), proxy_pass to an upstream
 * block with keep-alive connections, a buffered access log (Vigil writes one too), everything
 * (config, pid, logs, temp paths) in its own temp dir. Run as an unprivileged user when the harness
 * runs as root.
 */
async function startNginx(opts, upstreamPort) {
  const dir = join(tempDir, 'nginx');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      '# generated by bench/run.mjs',
      'daemon off;',
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} warn;`,
      'events { worker_connections 4096; }',
      'http {',
      `  access_log ${join(dir, 'access.log')} combined buffer=64k flush=1s;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, `${t}_temp`)};`),
      '  keepalive_timeout 5s;',
      `  upstream bench_upstream { server 127.0.0.1:${upstreamPort}; keepalive 256; }`,
      '  server {',
      `    listen 127.0.0.1:${port};`,
      '    location / {',
      '      proxy_pass http://bench_upstream;',
      '      proxy_http_version 1.1;',
      '      proxy_set_header Connection "";',
      '      proxy_set_header Host $proxy_host;',
      '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      '    }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  let ids = {};
  if (process.getuid?.() === 0) {
    const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' });
    const uid = Number(nobody.stdout.trim());
    if (!Number.isInteger(uid)) fail('running as root, but there is no user "nobody" to run nginx as');
    const gid = Number(spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    spawnSync('chown', ['-R', `${uid}:${gid}`, dir]);
    spawnSync('chmod', ['o+x', tempDir]);
    ids = { uid, gid };
  }
  const [command, argv] = pinned(PINNING[opts.pin].servers, NGINX, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')]);
  const child = track(spawn(command, argv, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], ...ids }), 'nginx');
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (!alive(child)) fail(`nginx exited during start-up (${child.exitCode ?? child.signalCode}):\n${tail(join(dir, 'error.log'))}`);
    try {
      await httpGet(`http://127.0.0.1:${port}${PATH}`);
      break;
    } catch {
      if (Date.now() > deadline) fail(`nginx did not start listening within 10 s:\n${tail(join(dir, 'error.log'))}`);
      await sleep(100);
    }
  }
  return { name: 'nginx', child, port, dir };
}

/** Starts a bench/*.mjs server and waits for its {"ready":true,"port":N} line. */
async function startScript(opts, name, script, args) {
  const [command, argv] = pinned(PINNING[opts.pin].servers, process.execPath, [join(BENCH_DIR, script), ...args]);
  const child = track(spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'] }), name);
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise((resolveReady, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`${name} exited before it was ready (${code ?? signal})`)));
    lines.once('line', (line) => {
      try {
        resolveReady(JSON.parse(line));
      } catch {
        reject(new Error(`${name} printed '${line}' instead of its ready line`));
      }
    });
  });
  lines.on('line', (line) => console.log(`  [${name}] ${line}`));
  return { name, child, port: ready.port };
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Starts one Vigil (built CLI) with its own temp data dir, config and key; stdout/stderr to files. */
async function startVigil(opts, name, variant, upstreamPort, sinkPort) {
  const dir = join(tempDir, name);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const [gatewayPort, consolePort] = [await freePort(), await freePort()];
  const configFile = join(dir, 'vigil.yaml');
  writeFileSync(
    configFile,
    [
      `# generated by bench/run.mjs for target '${name}'`,
      'gateway:',
      `  listen: { host: 127.0.0.1, port: ${gatewayPort} }`,
      '  routes:',
      '    - name: bench',
      '      prefix: /v1/',
      `      upstream: http://127.0.0.1:${upstreamPort}`,
      `      auth: ${variant.auth ? 'apiKey' : 'none'}`,
      // Far above any rate this machine reaches: every request is counted, none refused.
      ...(variant.auth && opts.rateLimitOn ? ['      rateLimits:', '        limits:', '          - { name: bench, by: apiKey, limit: 1000000, window: 1s }'] : []),
      ...(variant.tracing ? ['tracing:', '  enabled: true', `  endpoint: http://127.0.0.1:${sinkPort}/v1/traces`, `  sampleRatio: ${opts.traceRatio}`] : []),
      'console:',
      `  listen: { host: 127.0.0.1, port: ${consolePort} }`,
      'store:',
      `  dataDir: ${JSON.stringify(dataDir)}`,
      'log:',
      '  level: info',
      '  format: json',
      `  accessLog: ${variant.accessLog}`,
      '',
    ].join('\n'),
  );
  let key;
  if (variant.auth) {
    const created = spawnSync(process.execPath, [VIGIL_MAIN, 'keys', 'create', '--config', configFile, '--name', 'bench', '--json'], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (created.status !== 0) fail(`vigil keys create failed (${created.status}): ${created.stderr.trim()}`);
    key = JSON.parse(created.stdout).key;
    if (typeof key !== 'string' || !key.startsWith('vgl_')) fail(`vigil keys create printed no key: ${created.stdout}`);
  }
  const logFile = join(dir, 'vigil.stdout.log');
  const errFile = join(dir, 'vigil.stderr.log');
  const out = openSync(logFile, 'w');
  const err = openSync(errFile, 'w');
  const nodeArgs = [...opts.vigilNodeArgs];
  if (opts.cpuProf) {
    const profileDir = join(dir, 'profile');
    mkdirSync(profileDir);
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', profileDir);
  }
  const [command, argv] = pinned(PINNING[opts.pin].servers, process.execPath, [...nodeArgs, VIGIL_MAIN, 'start', '--config', configFile]);
  const child = track(spawn(command, argv, { cwd: dir, stdio: ['ignore', out, err] }), name);
  closeSync(out);
  closeSync(err);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (!alive(child)) fail(`${name} exited during start-up (${child.exitCode ?? child.signalCode}):\n${readFileSync(errFile, 'utf8')}${tail(logFile)}`);
    try {
      await httpGet(`http://127.0.0.1:${consolePort}/livez`);
      await httpGet(`http://127.0.0.1:${gatewayPort}${PATH}`);
      break;
    } catch {
      if (Date.now() > deadline) fail(`${name} did not start listening within 15 s:\n${tail(logFile)}`);
      await sleep(100);
    }
  }
  return { name, child, port: gatewayPort, consolePort, key, dir, logFile, errFile, configFile };
}

function tail(file, lines = 20) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers for the checks (a fresh connection each, so nothing lingers)
// ---------------------------------------------------------------------------------------------

function httpGet(url, headers = {}) {
  return new Promise((resolveGet, reject) => {
    const req = httpRequest(url, { headers, agent: false, timeout: 5000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolveGet({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

async function upstreamCount(upstreamPort) {
  return JSON.parse((await httpGet(`http://127.0.0.1:${upstreamPort}/__bench/stats`)).body).requests;
}

/** Vigil's own request counter by status, read from its Prometheus endpoint. */
async function vigilStatuses(consolePort) {
  const text = (await httpGet(`http://127.0.0.1:${consolePort}/metrics`)).body;
  const byStatus = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('vigil_gateway_requests_total{')) continue;
    const status = /status="(\d+)"/.exec(line)?.[1] ?? '?';
    byStatus[status] = (byStatus[status] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return byStatus;
}

/** Vigil's garbage collections so far (prom-client's nodejs_gc_duration_seconds): count and seconds per kind. */
async function vigilGc(consolePort) {
  const text = (await httpGet(`http://127.0.0.1:${consolePort}/metrics`)).body;
  const gc = {};
  for (const line of text.split('\n')) {
    const m = /^vigil_nodejs_gc_duration_seconds_(count|sum)\{kind="(\w+)"\} (\S+)$/.exec(line);
    if (m) gc[`${m[2]}_${m[1]}`] = Number(m[3]);
  }
  return gc;
}

function diffCounts(after, before) {
  const out = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) !== 0) out[k] = v - (before[k] ?? 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// CPU accounting (Linux /proc): who used the CPUs during a run. A benchmark on a shared machine is
// only honest if it says how much CPU other processes took while it measured.
// ---------------------------------------------------------------------------------------------

const TICKS = 100; // USER_HZ: /proc/stat and /proc/<pid>/stat count in 1/100 s on Linux

function systemTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  return { busy: f[0] + f[1] + f[2] + f[5] + f[6], steal: f[7] ?? 0 };
}

/** CPU ticks of a server: its process and descendants (nginx's worker). */
function serverTicks(pid) {
  return processTree(pid).reduce((sum, p) => sum + processTicks(p).own, 0);
}

/** utime+stime of a process, and cutime+cstime (its reaped children: wrk, for this harness). */
function processTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return { own: f[11] + f[12], children: f[13] + f[14] };
  } catch {
    return { own: 0, children: 0 };
  }
}

/** A snapshot to diff: the whole machine, this harness and its reaped children, each server. */
function cpuSnapshot(servers) {
  return {
    at: performance.now(),
    system: systemTicks(),
    self: processTicks(process.pid),
    servers: Object.fromEntries(servers.map((s) => [s.name, serverTicks(s.child.pid)])),
  };
}

/** CPU used between two snapshots, in % of one CPU: per server, wrk, the harness, and everyone else. */
function cpuUsage(before, after) {
  const seconds = (after.at - before.at) / 1000;
  const pct = (ticks) => Math.round((100 * ticks) / TICKS / seconds);
  const servers = {};
  let ours = after.self.own - before.self.own + (after.self.children - before.self.children);
  for (const name of Object.keys(after.servers)) {
    const used = after.servers[name] - (before.servers[name] ?? 0);
    servers[name] = pct(used);
    ours += used;
  }
  return {
    wrk: pct(after.self.children - before.self.children),
    harness: pct(after.self.own - before.self.own),
    servers,
    others: Math.max(0, pct(after.system.busy - before.system.busy - ours)),
    steal: pct(after.system.steal - before.system.steal),
  };
}

/** Waits (up to `maxMs`) until other processes use less than `limitPct` of one CPU over a second. */
async function waitForQuiet(servers, limitPct, maxMs) {
  const start = Date.now();
  for (;;) {
    const before = cpuSnapshot(servers);
    await sleep(1000);
    const usage = cpuUsage(before, cpuSnapshot(servers));
    const waitedMs = Date.now() - start;
    if (usage.others <= limitPct || waitedMs > maxMs) {
      if (waitedMs > 1500) console.log(`  (waited ${Math.round(waitedMs / 1000)} s for other processes to go quiet${usage.others > limitPct ? `; gave up at ${usage.others}% CPU` : ''})`);
      return { waitedMs, others: usage.others, gaveUp: usage.others > limitPct };
    }
    if (waitedMs < 1500) console.log(`  (machine busy: other processes use ${usage.others}% CPU; waiting up to ${maxMs / 1000} s)`);
  }
}

// ---------------------------------------------------------------------------------------------
// wrk
// ---------------------------------------------------------------------------------------------

function wrkVersion() {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) return undefined;
  return (probe.stdout + probe.stderr).split('\n')[0].trim();
}

function runWrk(opts, target, duration) {
  const args = ['-t', String(opts.threads), '-c', String(opts.connections), '-d', duration, '--timeout', '5s', '-s', LUA, target.url];
  return runClient('wrk', pinned(PINNING[opts.pin].wrk, 'wrk', args), target).then((result) => {
    result.rps = result.requests / (result.duration_us / 1e6);
    result.socketErrors = result.errors.connect + result.errors.read + result.errors.write + result.errors.timeout;
    return result;
  });
}

/** Runs a load client (wrk or bench/fixed-rate.mjs) against a target; resolves with its `BENCH_RESULT` JSON line. */
function runClient(label, [command, argv], target) {
  const env = { ...process.env, BENCH_AUTHORIZATION: target.authorization ?? '' };
  return new Promise((resolveRun, reject) => {
    const child = track(spawn(command, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] }), label);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) reject(new Error(`${label} failed on ${target.name} (exit ${code}):\n${stdout}${stderr}`));
      else resolveRun(JSON.parse(line.slice('BENCH_RESULT '.length)));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Checks before measuring: every target answers 200 with the same body; Vigil rejects without a key
// ---------------------------------------------------------------------------------------------

async function verify(targets) {
  const direct = await httpGet(`http://127.0.0.1:${targets.upstreamPort}${PATH}`);
  if (direct.status !== 200) fail(`upstream answered ${direct.status}`);
  const checks = [];
  for (const t of targets.list) {
    const withAuth = await httpGet(t.url, t.authorization ? { authorization: t.authorization } : {});
    if (withAuth.status !== 200) fail(`${t.name}: expected 200, got ${withAuth.status}: ${withAuth.body}`);
    if (withAuth.body !== direct.body) fail(`${t.name}: body differs from the upstream's:\n${withAuth.body}\n${direct.body}`);
    checks.push(`${t.name}: 200 ${t.authorization ? 'with key' : ''}`.trim());
    if (t.authorization) {
      const none = await httpGet(t.url);
      if (none.status !== 401) fail(`${t.name}: expected 401 without a key, got ${none.status}`);
      const wrong = await httpGet(t.url, { authorization: `${t.authorization.slice(0, -4)}AAAA` });
      if (wrong.status !== 401) fail(`${t.name}: expected 401 with a wrong key, got ${wrong.status}`);
      checks.push(`${t.name}: 401 without key, 401 with a wrong key`);
    }
  }
  return checks;
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (us) => (us / 1000).toFixed(2);
/**
 * What a target adds over a baseline at a percentile, in µs: the median over the rounds of the
 * difference within each round. Rounds are interleaved, so a round pairs two runs minutes apart at
 * most, and a host slowdown that hits one round of one target moves one difference, not the figure.
 */
const addedUs = (f, base, p) => median(f.rounds.map((r, i) => r.latency_us[p] - base.rounds[i].latency_us[p]));
const fmtRps = (n) => Math.round(n).toLocaleString('en-US');

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function summarize(runs, targetNames) {
  const out = [];
  for (const name of targetNames) {
    const mine = runs.filter((r) => r.target === name);
    const rps = mine.map((r) => r.rps);
    out.push({
      target: name,
      label: TARGETS[name].label,
      rounds: mine.length,
      rps: median(rps),
      rpsMin: Math.min(...rps),
      rpsMax: Math.max(...rps),
      p50us: median(mine.map((r) => r.latency_us.p50)),
      p99us: median(mine.map((r) => r.latency_us.p99)),
      non2xx: mine.reduce((a, r) => a + r.errors.status, 0),
      socketErrors: mine.reduce((a, r) => a + r.socketErrors, 0),
      requests: mine.reduce((a, r) => a + r.requests, 0),
      problems: mine.flatMap((r) => r.problems),
      cpuTarget: median(mine.map((r) => (name === 'direct' ? r.cpu.servers.upstream : r.cpu.servers[name]))),
      cpuUpstream: median(mine.map((r) => r.cpu.servers.upstream)),
      cpuWrk: median(mine.map((r) => r.cpu.wrk)),
      cpuOthersMax: Math.max(...mine.map((r) => r.cpu.others)),
    });
  }
  const bare = out.find((s) => s.target === 'bare');
  for (const s of out) {
    s.rpsVsBare = bare ? s.rps / bare.rps : null;
    s.p50VsBare = bare ? s.p50us / bare.p50us : null;
    s.p99VsBare = bare ? s.p99us / bare.p99us : null;
  }
  return out;
}

/**
 * Vigil's own time per request from its access lines written after `offset`: the whole duration
 * (request dispatched to response closed) minus the upstream exchange (request handed to the pool
 * to the upstream's last byte), in µs. What the pipeline spends before forwarding and after the
 * upstream finished, without the hops to the upstream that every proxy pays.
 */
async function inProcessOverheads(file, offset) {
  const out = [];
  const lines = createInterface({ input: createReadStream(file, { start: offset }) });
  for await (const line of lines) {
    const at = line.indexOf('"access":');
    if (at === -1) continue;
    const { status, durationMs, upstreamMs } = JSON.parse(line).access;
    if (status === 200 && typeof upstreamMs === 'number') out.push(Math.round((durationMs - upstreamMs) * 1000));
  }
  return out;
}

/** The value at percentile `p` of an ascending array. */
function percentileOf(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function countLines(file, needle) {
  let count = 0;
  const lines = createInterface({ input: createReadStream(file) });
  for await (const line of lines) if (line.includes(needle)) count++;
  return count;
}

function gitInfo() {
  const rev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  return { commit: rev || null, srcDirty: dirty !== '' };
}

/** The newest .ts under src/, to warn when dist/ was built from older sources. */
function newestSource(dir = join(ROOT, 'src')) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const needNginx = opts.targets.includes('nginx');
  if (!wrkVersion() || (needNginx && !nginxVersion())) installTools(needNginx);
  const wrk = wrkVersion();
  if (!wrk || (needNginx && !nginxVersion())) {
    console.error('wrk (and nginx for the nginx target) are needed. On Debian/Ubuntu, as root: apt-get update && apt-get install -y wrk nginx-light');
    process.exitCode = 2;
    return;
  }
  opts.rateLimitOn = opts.rateLimit === 'on' || (opts.rateLimit === 'auto' && existsSync(VIGIL_MAIN) && rateLimitsSupported());
  if (opts.pin !== 'off' && spawnSync('taskset', ['--version']).error) fail(`--pin ${opts.pin} needs taskset (Debian package util-linux)`);
  if (opts.pin !== 'off' && cpus().length < 2) fail(`--pin ${opts.pin} needs 2 CPUs`);
  if (!existsSync(VIGIL_MAIN)) fail(`${VIGIL_MAIN} is missing: run npm run build first`);
  const distAge = statSync(VIGIL_MAIN).mtimeMs;
  const stale = newestSource() > distAge;
  if (stale) console.warn('WARNING: some src/**/*.ts is newer than dist/cli/main.js; the figures are for the last build (npm run build)');

  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    wrk,
    nginx: needNginx ? nginxVersion() : null,
    undici: JSON.parse(readFileSync(join(ROOT, 'node_modules', 'undici', 'package.json'), 'utf8')).version,
  };
  const git = gitInfo();
  console.log(`Vigil gateway benchmark: ${machine.cpus} CPU(s) ${machine.cpuModel}, node ${machine.node}, ${machine.wrk}`);
  console.log(
    `wrk -t${opts.threads} -c${opts.connections} -d${opts.duration} (warm-up ${opts.warmup}), ${opts.rounds} round(s), GET ${PATH}, ` +
      `pinning: ${PINNING[opts.pin].text}`,
  );
  console.log(`code: ${git.commit ?? '?'}${git.srcDirty ? ' + uncommitted src/ changes' : ''}${stale ? ' (dist older than src!)' : ''}`);
  console.log(
    `Vigil: API-key auth, metrics, access log, ${opts.rateLimitOn ? 'per-key rate limit (never reached)' : 'NO rate limit (--rate-limit off, or the build has no route rateLimits)'}, ` +
      `tracing sampled at ${opts.traceRatio} to a loopback OTLP sink (target 'vigil')\n`,
  );

  tempDir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const upstream = await startScript(opts, 'upstream', 'upstream.mjs', []);
  const servers = [upstream];
  const upstreamOrigin = `http://127.0.0.1:${upstream.port}`;
  const sink = opts.targets.some((t) => TARGETS[t].tracing) ? await startScript(opts, 'otlp-sink', 'otlp-sink.mjs', []) : undefined;
  if (sink) servers.push(sink);
  const list = [];
  const vigils = [];
  for (const name of opts.targets) {
    const spec = TARGETS[name];
    if (spec.kind === 'upstream') {
      list.push({ name, url: `${upstreamOrigin}${PATH}` });
    } else if (spec.kind === 'nginx') {
      const nginx = await startNginx(opts, upstream.port);
      servers.push(nginx);
      list.push({ name, url: `http://127.0.0.1:${nginx.port}${PATH}` });
    } else if (spec.kind === 'express') {
      const express = await startScript(opts, 'express', 'express-proxy.mjs', [upstreamOrigin, join(tempDir, 'express-access.log')]);
      servers.push(express);
      list.push({ name, url: `http://127.0.0.1:${express.port}${PATH}` });
    } else if (spec.kind === 'bare' || spec.kind === 'tcp') {
      const proxy = await startScript(opts, name, spec.kind === 'bare' ? 'bare-proxy.mjs' : 'tcp-pipe.mjs', [upstreamOrigin]);
      servers.push(proxy);
      list.push({ name, url: `http://127.0.0.1:${proxy.port}${PATH}` });
    } else {
      const vigil = await startVigil(opts, name, spec, upstream.port, sink?.port);
      vigils.push(vigil);
      servers.push(vigil);
      list.push({ name, url: `http://127.0.0.1:${vigil.port}${PATH}`, authorization: vigil.key ? `Bearer ${vigil.key}` : undefined, vigil });
    }
  }
  console.log(`started: upstream :${upstream.port}, ${list.map((t) => `${t.name} ${new URL(t.url).port}`).join(', ')}`);

  const checks = await verify({ upstreamPort: upstream.port, list });
  console.log(`verified: ${checks.join('; ')}`);

  for (const t of list) {
    placeServers(opts, servers, t.name === 'direct' ? 'upstream' : t.name);
    process.stdout.write(`warm-up ${t.name} ${opts.warmup} ... `);
    const w = await runWrk(opts, t, opts.warmup);
    console.log(`${fmtRps(w.rps)} req/s${w.errors.status || w.socketErrors ? ` (non-2xx ${w.errors.status}, socket errors ${w.socketErrors})` : ''}`);
  }

  const runs = [];
  for (let round = 1; round <= opts.rounds; round++) {
    for (const t of list) {
      placeServers(opts, servers, t.name === 'direct' ? 'upstream' : t.name);
      await sleep(500);
      const quiet = opts.quiet === null ? undefined : await waitForQuiet(servers, opts.quiet, 120_000);
      const upBefore = await upstreamCount(upstream.port);
      const statusBefore = t.vigil ? await vigilStatuses(t.vigil.consolePort) : undefined;
      const gcBefore = t.vigil ? await vigilGc(t.vigil.consolePort) : undefined;
      const cpuBefore = cpuSnapshot(servers);
      const r = await runWrk(opts, t, opts.duration);
      r.cpu = cpuUsage(cpuBefore, cpuSnapshot(servers));
      await sleep(200); // let in-flight requests finish before reading the counters
      const upDelta = (await upstreamCount(upstream.port)) - upBefore;
      r.round = round;
      r.target = t.name;
      r.upstreamServed = upDelta;
      r.quietWait = quiet;
      r.problems = [];
      // wrk stops with up to `connections` requests in flight: the upstream served them, wrk did not count them.
      if (upDelta < r.requests || upDelta > r.requests + opts.connections) {
        r.problems.push(`upstream served ${upDelta} requests but wrk counted ${r.requests}`);
      }
      if (r.errors.status > 0) r.problems.push(`${r.errors.status} non-2xx/3xx responses`);
      if (r.socketErrors > 0) r.problems.push(`socket errors ${JSON.stringify(r.errors)}`);
      if (statusBefore) {
        r.vigilStatuses = diffCounts(await vigilStatuses(t.vigil.consolePort), statusBefore);
        // 499 = client closed first: wrk closes its connections with requests in flight when time is up.
        const other = Object.entries(r.vigilStatuses).filter(([s]) => s !== '200' && !(s === '499' && r.vigilStatuses[s] <= opts.connections));
        if (other.length > 0) r.problems.push(`Vigil recorded non-200 statuses ${JSON.stringify(Object.fromEntries(other))}`);
        // Allocation pressure, independent of how much CPU the machine gave: young-generation
        // collections per 10k requests (each one means a full semi-space of garbage) and GC time.
        const gc = diffCounts(await vigilGc(t.vigil.consolePort), gcBefore);
        const n = Math.max(1, r.requests);
        r.gc = {
          minorPer10k: Math.round(((gc.minor_count ?? 0) * 10_000 * 10) / n) / 10,
          major: (gc.major_count ?? 0) + (gc.incremental_count ?? 0),
          gcMsPer1k: Math.round(((Object.entries(gc).filter(([k]) => k.endsWith('_sum')).reduce((a, [, v]) => a + v, 0) * 1000 * 1000) / n) * 10) / 10,
        };
      }
      if (opts.quiet !== null && r.cpu.others > opts.quiet) r.problems.push(`other processes used ${r.cpu.others}% CPU during the run`);
      // CPU time per request of the process under test: far less sensitive to other load than req/s.
      const underTest = r.cpu.servers[t.name === 'direct' ? 'upstream' : t.name];
      r.cpuUsPerRequest = r.rps > 0 ? Math.round((underTest * 10_000) / r.rps) : null;
      const gcText = r.gc ? `  gc: ${r.gc.minorPer10k} minor/10k req, ${r.gc.major} major, ${r.gc.gcMsPer1k} ms/1k req` : '';
      const cpuText = `cpu% wrk ${r.cpu.wrk} upstream ${r.cpu.servers.upstream}${t.name === 'direct' ? '' : ` ${t.name} ${r.cpu.servers[t.name]}`} others ${r.cpu.others}  cpu µs/req ${r.cpuUsPerRequest}${gcText}`;
      runs.push(r);
      console.log(
        `round ${round} ${t.name.padEnd(12)} ${fmtRps(r.rps).padStart(8)} req/s  p50 ${ms(r.latency_us.p50)} ms  p99 ${ms(r.latency_us.p99)} ms` +
          `  non-2xx ${r.errors.status}  sock err ${r.socketErrors}  ${cpuText}${r.problems.length ? `  !! ${r.problems.join('; ')}` : ''}`,
      );
    }
  }

  const summary = summarize(runs, list.map((t) => t.name));
  console.log(`\nMedian of ${opts.rounds} round(s), ${opts.duration} each; spread = min..max req/s over the rounds`);
  console.log(
    table(
      ['target', 'req/s', 'spread req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'sock err', 'req/s vs bare', 'p50 vs bare', 'p99 vs bare', 'cpu% target/upstream/wrk/others', 'cpu µs/req (min..max)'],
      summary.map((s) => [
        `${s.target} (${s.label})`,
        fmtRps(s.rps),
        opts.rounds > 1 ? `${fmtRps(s.rpsMin)}..${fmtRps(s.rpsMax)}` : '-',
        ms(s.p50us),
        ms(s.p99us),
        s.non2xx,
        s.socketErrors,
        s.rpsVsBare === null ? '-' : s.rpsVsBare.toFixed(2),
        s.p50VsBare === null ? '-' : `${s.p50VsBare.toFixed(2)}x`,
        s.p99VsBare === null ? '-' : `${s.p99VsBare.toFixed(2)}x`,
        `${s.target === 'direct' ? '-' : s.cpuTarget}/${s.cpuUpstream}/${s.cpuWrk}/${s.cpuOthersMax}`,
        cpuPerRequest(runs, s.target),
      ]),
    ),
  );

  const ratios = targetRatios(summary, runs);
  for (const line of ratios.lines) console.log(line);

  // Added latency at a fixed moderate rate (open loop): half of Vigil's saturation by default.
  const fixed = [];
  const vigilSummary = summary.find((s) => s.target === 'vigil') ?? summary.find((s) => TARGETS[s.target].kind === 'vigil');
  const rate = opts.fixedRate === 'auto' ? (vigilSummary ? Math.round(vigilSummary.rps / 2) : null) : opts.fixedRate;
  if (rate) {
    console.log(
      `\nFixed rate ${fmtRps(rate)} req/s (open loop, requests evenly spaced, latency from the scheduled send time), ${opts.fixedRounds} interleaved round(s) of ${opts.fixedDuration} s per target after 2 s of warm-up; medians over the rounds`,
    );
    const eligible = [];
    for (const t of list) {
      const saturation = summary.find((s) => s.target === t.name)?.rps ?? 0;
      if (saturation < rate * 1.25) {
        console.log(`  ${t.name}: skipped, its saturation throughput (${fmtRps(saturation)} req/s) is too close to the rate for an open-loop run`);
        fixed.push({ target: t.name, skipped: true, saturation });
      } else {
        eligible.push(t);
        fixed.push({ target: t.name, rounds: [], overheadUs: [], problems: [] });
      }
    }
    for (let round = 1; round <= opts.fixedRounds; round++) {
      for (const t of eligible) {
        const f = fixed.find((x) => x.target === t.name);
        placeServers(opts, servers, t.name === 'direct' ? 'upstream' : t.name);
        await sleep(500);
        if (opts.quiet !== null) await waitForQuiet(servers, opts.quiet, 120_000);
        const logOffset = t.vigil ? statSync(t.vigil.logFile).size : 0;
        const cpuBefore = cpuSnapshot(servers);
        const run = await runFixedRate(opts, t, rate);
        run.cpu = cpuUsage(cpuBefore, cpuSnapshot(servers));
        f.rounds.push(run);
        if (t.vigil) {
          await sleep(200); // the access log is written in batches every 20 ms
          // The client's 2 s warm-up at the same rate comes first in the log: left out.
          f.overheadUs.push(...(await inProcessOverheads(t.vigil.logFile, logOffset)).slice(rate * 2));
        }
        if (run.non2xx > 0 || run.errors > 0) f.problems.push(`round ${round}: ${run.non2xx} non-2xx, ${run.errors} errors`);
        if (run.ok !== run.sent) f.problems.push(`round ${round}: ${run.sent - run.ok} of ${run.sent} requests not answered 2xx`);
        if (opts.quiet !== null && run.cpu.others > opts.quiet) f.problems.push(`round ${round}: other processes used ${run.cpu.others}% CPU during the run`);
      }
    }
    for (const f of fixed) {
      if (f.skipped) continue;
      f.latency_us = Object.fromEntries(['p50', 'p90', 'p99', 'p999'].map((k) => [k, median(f.rounds.map((r) => r.latency_us[k]))]));
      f.sent = f.rounds.reduce((a, r) => a + r.sent, 0);
      f.ok = f.rounds.reduce((a, r) => a + r.ok, 0);
      f.sendLateness_us = { p50: median(f.rounds.map((r) => r.sendLateness_us.p50)), max: Math.max(...f.rounds.map((r) => r.sendLateness_us.max)) };
      f.othersCpu = Math.max(...f.rounds.map((r) => r.cpu.others));
      if (f.overheadUs.length > 0) {
        const sorted = Float64Array.from(f.overheadUs).sort();
        f.inProcess_us = { requests: sorted.length, p50: percentileOf(sorted, 50), p90: percentileOf(sorted, 90), p99: percentileOf(sorted, 99) };
      }
      delete f.overheadUs;
    }
    const direct = fixed.find((f) => f.target === 'direct' && !f.skipped);
    console.log(
      table(
        ['target', 'p50 ms', 'p50 per round', 'p90 ms', 'p99 ms', 'p99.9 ms', 'added p50 ms', 'added p99 ms', 'sent', 'ok', 'sent late p50/max ms', 'others cpu% (max)'],
        fixed
          .filter((f) => !f.skipped)
          .map((f) => [
            `${f.target}${f.problems.length ? ' !!' : ''}`,
            ms(f.latency_us.p50),
            f.rounds.map((r) => ms(r.latency_us.p50)).join(' '),
            ms(f.latency_us.p90),
            ms(f.latency_us.p99),
            ms(f.latency_us.p999),
            direct && f !== direct ? ms(addedUs(f, direct, 'p50')) : '-',
            direct && f !== direct ? ms(addedUs(f, direct, 'p99')) : '-',
            f.sent,
            f.ok,
            `${ms(f.sendLateness_us.p50)}/${ms(f.sendLateness_us.max)}`,
            f.othersCpu,
          ]),
      ).replace(/^/gm, '  '),
    );
    const vigilFixed = fixed.find((f) => f.target === vigilSummary?.target && !f.skipped);
    if (direct && vigilFixed) {
      const added = addedUs(vigilFixed, direct, 'p50') / 1000;
      ratios.addedP50Ms = added;
      console.log(`  Vigil's added p50 at ${fmtRps(rate)} req/s: ${added.toFixed(3)} ms (target <= 0.2 ms: ${added <= 0.2 ? 'met' : 'NOT met'})`);
      // The bare proxy's own added latency is the floor of any Node proxy on this machine: what
      // Vigil adds on top of it is what Vigil's pipeline costs in latency.
      const bare = fixed.find((f) => f.target === 'bare' && !f.skipped);
      if (bare) {
        ratios.addedP50OverBareMs = addedUs(vigilFixed, bare, 'p50') / 1000;
        console.log(`  Vigil's added p50 over the bare proxy's: ${ratios.addedP50OverBareMs.toFixed(3)} ms (the bare proxy itself adds ${(addedUs(bare, direct, 'p50') / 1000).toFixed(3)} ms)`);
      }
      const pipe = fixed.find((f) => f.target === 'node-tcp' && !f.skipped);
      if (pipe) {
        ratios.nodeFloorAddedP50Ms = addedUs(pipe, direct, 'p50') / 1000;
        console.log(`  the Node TCP pipe (no HTTP at all) adds ${ratios.nodeFloorAddedP50Ms.toFixed(3)} ms: the floor of any Node data plane on this machine`);
      }
    }
    for (const f of fixed) {
      if (!f.inProcess_us) continue;
      const { requests, p50, p90, p99 } = f.inProcess_us;
      console.log(
        `  ${f.target} in-process time (its access log: total duration minus the upstream exchange, ${requests} requests): p50 ${ms(p50)} ms, p90 ${ms(p90)} ms, p99 ${ms(p99)} ms`,
      );
    }
    for (const f of fixed) for (const p of f.problems ?? []) summary.find((s) => s.target === f.target)?.problems.push(`fixed rate: ${p}`);
  }

  // Stop the Vigils (graceful, so access records are flushed and profiles written), then check their logs.
  const vigilReports = [];
  for (const v of vigils) {
    const statuses = await vigilStatuses(v.consolePort);
    await stopChild(v.child);
    const accessLines = await countLines(v.logFile, '"access":');
    const logBytes = statSync(v.logFile).size;
    const errors = await countLines(v.logFile, '"level":"error"');
    const handled = Object.values(statuses).reduce((a, b) => a + b, 0);
    const report = { target: v.name, handled, statuses, accessLogLines: accessLines, logBytes, errorLines: errors, exitCode: v.child.exitCode };
    if (opts.cpuProf) {
      const dir = join(v.dir, 'profile');
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      if (file) {
        mkdirSync(join(RESULTS_DIR, 'profiles'), { recursive: true });
        const kept = join(RESULTS_DIR, 'profiles', `${v.name}-${Date.now()}.cpuprofile`);
        writeFileSync(kept, readFileSync(join(dir, file)));
        report.profile = kept;
        report.hotspots = summarizeProfile(JSON.parse(readFileSync(kept, 'utf8')), 25);
      }
    }
    vigilReports.push(report);
    console.log(
      `\n${v.name}: handled ${handled} requests ${JSON.stringify(statuses)}, ${accessLines} access log lines, ` +
        `${(logBytes / 1e6).toFixed(1)} MB of log (${handled ? Math.round(logBytes / handled) : 0} B/request), ${errors} error lines, exit ${v.child.exitCode}`,
    );
    const expectLog = TARGETS[v.name].accessLog;
    if (TARGETS[v.name].tracing && sink) {
      report.otlp = JSON.parse((await httpGet(`http://127.0.0.1:${sink.port}/__bench/stats`)).body);
      console.log(`  OTLP sink: ${report.otlp.spans} spans in ${report.otlp.exports} exports so far (sampling ${opts.traceRatio}: expect ≈ ${Math.round(handled * opts.traceRatio * 2)} for server + client spans), ${report.otlp.malformed} malformed`);
      if (opts.traceRatio > 0 && report.otlp.spans === 0) console.log('  !! no spans reached the OTLP sink');
    }
    if (expectLog && accessLines !== handled) console.log(`  !! access log lines (${accessLines}) differ from requests handled (${handled})`);
    if (errors > 0) console.log(`  !! ${errors} error lines in ${v.name}'s log:\n${tail(v.logFile, 5)}`);
    if (report.hotspots) {
      console.log(`  hottest functions by self time (${report.profile}):`);
      console.log(table(['self %', 'function', 'where'], report.hotspots.map((h) => [h.selfPct.toFixed(1), h.name, h.where])).replace(/^/gm, '    '));
    }
  }

  const problems = summary.flatMap((s) => s.problems.map((p) => `${s.target}: ${p}`));
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(RESULTS_DIR, `bench-${stamp}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), machine, git, distStale: stale, options: opts, path: PATH, checks, summary, ratios, fixedRate: { rate, runs: fixed }, runs, vigil: vigilReports, problems }, null, 2)}\n`,
  );
  console.log(`\nresults: ${file}`);
  if (problems.length > 0) {
    console.log(`\n!! ${problems.length} problem(s): the figures above include errors or unverified requests:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

/** Vigil's ratios against the targets the issue sets them for, by req/s and by CPU per request. */
function targetRatios(summary, runs) {
  const by = (name) => summary.find((s) => s.target === name);
  const vigil = by('vigil') ?? summary.find((s) => TARGETS[s.target].kind === 'vigil');
  const out = { lines: [] };
  if (!vigil) return out;
  const cpu = (name) => median(runs.filter((r) => r.target === name && r.cpuUsPerRequest !== null).map((r) => r.cpuUsPerRequest));
  out.lines.push(`\nVigil (${vigil.target}) ratios, median req/s (and inverse CPU µs/req, the steadier figure on a shared machine):`);
  for (const [name, goal] of [['bare', 0.75], ['express', 3], ['nginx', null]]) {
    const other = by(name);
    if (!other) continue;
    const rps = vigil.rps / other.rps;
    const byCpu = cpu(name) / cpu(vigil.target);
    out[name] = { rps, cpu: byCpu, goal };
    const verdict = goal === null ? '' : `  (target >= ${goal}: ${rps >= goal ? 'met' : 'NOT met'} by req/s, ${byCpu >= goal ? 'met' : 'NOT met'} by CPU)`;
    out.lines.push(`  vs ${name.padEnd(8)} ${rps.toFixed(2)}x req/s, ${byCpu.toFixed(2)}x by CPU per request${verdict}`);
  }
  return out;
}

/** One open-loop fixed-rate run of bench/fixed-rate.mjs against a target, on the wrk CPU. */
function runFixedRate(opts, target, rate) {
  const args = [FIXED_RATE, target.url, String(rate), String(opts.fixedDuration), '2', '64'];
  return runClient('fixed-rate', pinned(PINNING[opts.pin].wrk, process.execPath, args), target);
}

function nginxVersion() {
  const probe = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return undefined;
  return probe.stderr.trim().replace(/^nginx version: /, '');
}

/** Whether the built Vigil knows per-route rate limits (they arrive with the protection work). */
function rateLimitsSupported() {
  const dir = join(ROOT, 'dist', 'config');
  return existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.js') && readFileSync(join(dir, f), 'utf8').includes('rateLimits'));
}

/** Installs wrk (and nginx) with apt-get when the harness runs as root on Debian/Ubuntu. */
function installTools(withNginx) {
  if (userInfo().uid !== 0 || spawnSync('apt-get', ['--version']).error) return;
  const packages = ['wrk', ...(withNginx ? ['nginx-light'] : [])];
  console.log(`installing ${packages.join(' ')} (apt-get) ...`);
  let result = spawnSync('apt-get', ['install', '-y', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    result = spawnSync('apt-get', ['install', '-y', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
}

/** Median CPU µs per request of the process under test over a target's rounds, with the spread. */
function cpuPerRequest(runs, target) {
  const values = runs.filter((r) => r.target === target && r.cpuUsPerRequest !== null).map((r) => r.cpuUsPerRequest).sort((a, b) => a - b);
  if (values.length === 0) return '-';
  return `${values[Math.floor(values.length / 2)]} (${values[0]}..${values[values.length - 1]})`;
}

main()
  .catch((err) => {
    console.error(err.benchFailure ? `bench: ${err.message}` : err);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
