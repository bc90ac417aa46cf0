// Monitor scale benchmark: N HTTP checks per minute against local endpoints, on one Vigil instance.
// Measures the Vigil process only (CPU % of one core from /proc/<pid>/stat, peak and final RSS from
// /proc/<pid>/status) and cross-checks that every check ran at the expected rate.
//   npm run build && node bench/monitor-scale.mjs [--checks 2000] [--warmup 30] [--duration 120]
// Runs dist/cli/main.js (the shipped build); with --tsx 1, the TypeScript sources through tsx instead.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const CHECKS = arg('checks', 2000);
const WARMUP_S = arg('warmup', 30);
const DURATION_S = arg('duration', 120);
const ENDPOINTS = 4;
const ROOT = new URL('..', import.meta.url).pathname;
const TICKS = 100; // USER_HZ on Linux

const dir = mkdtempSync(join(tmpdir(), 'vigil-monbench-'));
chmodSync(dir, 0o700);
const children = [];
const cleanup = () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

// The endpoints live in their own process, so their CPU is not counted as Vigil's.
const upstreamCode = `
  const http = require('node:http');
  let count = 0;
  const ports = [];
  let ready = 0;
  for (let i = 0; i < ${ENDPOINTS}; i++) {
    const server = http.createServer((req, res) => {
      if (req.url === '/count') return res.end(String(count));
      count++;
      res.setHeader('content-type', 'application/json');
      res.end('{"status":"ok","data":{"ok":true}}');
    });
    server.keepAliveTimeout = 65000;
    server.listen(0, '127.0.0.1', () => { ports[i] = server.address().port; if (++ready === ${ENDPOINTS}) console.log(JSON.stringify(ports)); });
  }`;
const upstream = spawn(process.execPath, ['-e', upstreamCode], { stdio: ['ignore', 'pipe', 'inherit'] });
children.push(upstream);
const ports = await new Promise((resolve) => upstream.stdout.once('data', (d) => resolve(JSON.parse(String(d)))));

const consolePort = 20000 + Math.floor(Math.random() * 20000);
const checks = Array.from({ length: CHECKS }, (_, i) => ({
  name: `c${i}`,
  type: 'http',
  url: `http://127.0.0.1:${ports[i % ENDPOINTS]}/health/${i}`,
  interval: '60s',
  timeout: '5s',
  conditions: ['[STATUS] == 200', '[BODY].data.ok == true'],
}));
const config = {
  gateway: { listen: { port: 0 } },
  console: { listen: { port: consolePort } },
  store: { dataDir: join(dir, 'data') },
  log: { level: 'warn', format: 'json' },
  monitor: { system: { enabled: true }, checks },
};
const configFile = join(dir, 'vigil.yaml');
writeFileSync(configFile, JSON.stringify(config));

const entry = arg('tsx', 0) === 1 ? ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')] : [join(ROOT, 'dist/cli/main.js')];
const vigil = spawn(process.execPath, [...entry, 'start', '--config', configFile], {
  cwd: ROOT, // tsx resolves from here
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, NODE_ENV: 'production' },
});
children.push(vigil);

const metrics = async () => (await request(`http://127.0.0.1:${consolePort}/metrics`)).body.text();
const upstreamCount = async () => Number(await (await request(`http://127.0.0.1:${ports[0]}/count`)).body.text());
const cpuTicks = () => {
  const fields = readFileSync(`/proc/${vigil.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (all threads)
};
const rss = () => {
  const status = readFileSync(`/proc/${vigil.pid}/status`, 'utf8');
  return { now: Number(/VmRSS:\s+(\d+)/.exec(status)[1]) * 1024, peak: Number(/VmHWM:\s+(\d+)/.exec(status)[1]) * 1024 };
};

for (let i = 0; ; i++) {
  try {
    await metrics();
    break;
  } catch {
    if (i > 600) throw new Error('vigil did not start');
    await sleep(100);
  }
}
console.log(`vigil started with ${CHECKS} checks on ${ENDPOINTS} endpoints; warming up ${WARMUP_S}s`);
await sleep(WARMUP_S * 1000);
const up = (await metrics()).match(/^vigil_check_up\{check="c\d+"\} 1$/gm)?.length ?? 0;
const startTicks = cpuTicks();
const startCount = await upstreamCount();
const started = Date.now();
let peakRss = 0;
while (Date.now() - started < DURATION_S * 1000) {
  peakRss = Math.max(peakRss, rss().now);
  await sleep(1000);
}
const seconds = (Date.now() - started) / 1000;
const cpuPercent = ((cpuTicks() - startTicks) / TICKS / seconds) * 100;
const requests = (await upstreamCount()) - startCount;
const finalUp = (await metrics()).match(/^vigil_check_up\{check="c\d+"\} 1$/gm)?.length ?? 0;
const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;
const result = {
  checks: CHECKS,
  checksUpAfterWarmup: up,
  checksUpAtEnd: finalUp,
  measuredSeconds: Math.round(seconds),
  checkRunsPerMinute: Math.round((requests / seconds) * 60),
  cpuPercentOfOneCore: Math.round(cpuPercent * 10) / 10,
  rssDuringRun: mib(peakRss),
  rssPeakSinceStart: mib(rss().peak),
};
console.log(JSON.stringify(result, null, 2));
vigil.kill('SIGTERM');
await new Promise((resolve) => vigil.once('exit', resolve));
process.exit(finalUp === CHECKS ? 0 : 1);
