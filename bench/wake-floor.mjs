/* global Buffer */
// The machine's floor for any proxy's added latency: the round trip of one byte between two Node
// processes over loopback TCP, sent 1 ms apart so the receiving CPU has gone idle in between (as it
// does at a moderate rate). Run across the two CPUs the benchmark's placement uses and on one CPU:
// the difference is what waking an idle CPU costs on this machine, paid on every hop between the
// load client, a proxy on its own CPU and the upstream, whatever the proxy does.
//
//   node bench/wake-floor.mjs <sender cpu> <echo cpu> [samples]
//
// Prints `BENCH_RESULT {"rtt_us":{"p50":…,"p90":…,"p99":…}}`. Needs taskset (util-linux).
import { spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === '--echo') {
  // The echo side: answers every byte at once; exits when the sender goes away.
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (data) => socket.write(data));
    socket.on('close', () => process.exit(0));
  });
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
} else {
  const [senderCpu, echoCpu, samplesArg = '2000'] = process.argv.slice(2);
  const samples = Number(samplesArg);
  if (!/^\d+$/.test(senderCpu ?? '') || !/^\d+$/.test(echoCpu ?? '') || !(samples > 0)) {
    console.error('usage: node bench/wake-floor.mjs <sender cpu> <echo cpu> [samples]');
    process.exit(2);
  }
  const pin = spawn('taskset', ['-p', '-c', senderCpu, String(process.pid)], { stdio: 'ignore' });
  await new Promise((resolve) => pin.on('close', resolve));
  const echo = spawn('taskset', ['-c', echoCpu, process.execPath, fileURLToPath(import.meta.url), '--echo'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    echo.stdout.once('data', (line) => resolve(JSON.parse(String(line)).port));
    echo.once('exit', (code) => reject(new Error(`the echo process exited (${code})`)));
  });
  const socket = createConnection({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  await new Promise((resolve) => socket.once('connect', resolve));
  const rtt = new Float64Array(samples);
  const byte = Buffer.from('x');
  const warmup = 50;
  for (let i = -warmup; i < samples; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    const start = process.hrtime.bigint();
    socket.write(byte);
    await new Promise((resolve) => socket.once('data', resolve));
    if (i >= 0) rtt[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  socket.destroy();
  rtt.sort();
  const at = (p) => Math.round(rtt[Math.min(samples - 1, Math.floor((p / 100) * samples))]);
  console.log(`BENCH_RESULT ${JSON.stringify({ senderCpu: Number(senderCpu), echoCpu: Number(echoCpu), samples, rtt_us: { p50: at(50), p90: at(90), p99: at(99) } })}`);
}
