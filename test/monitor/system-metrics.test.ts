import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { SystemMetrics } from '../../src/monitor/system-metrics.js';
import { SystemReadings } from '../../src/monitor/system-readings.js';
import { addUser, errorCode, sessionCookie, startIdentityApp } from '../identity/support.js';

describe('system metrics', () => {
  it('reads CPU, load, memory, disks and network from the real host', async () => {
    const readings = new SystemReadings();
    const spin = Date.now() + 50;
    while (Date.now() < spin); // some CPU work between the two readings
    const cpu = readings.cpuUsage();
    assert.ok(cpu > 0 && cpu <= 1, `cpu ${cpu}`);
    const memory = await readings.memory();
    assert.ok(memory.totalBytes > 0 && memory.availableBytes > 0 && memory.availableBytes <= memory.totalBytes);
    const disks = await readings.disks();
    assert.ok(disks.some((d) => d.mount === '/' && d.totalBytes > 0), JSON.stringify(disks));
    assert.ok((await readings.network()).some((n) => n.interface === 'lo'));
  });

  it('exports vigil_system_* gauges on scrape, next to the process defaults', async () => {
    const registry = new Registry();
    const metrics = new SystemMetrics(registry);
    const text = await registry.metrics();
    metrics.close();
    for (const pattern of [
      /^vigil_system_cpu_usage_ratio \d/m,
      /^vigil_system_load_average\{period="1m"\} \d/m,
      /^vigil_system_memory_bytes\{state="available"\} \d/m,
      /^vigil_system_disk_bytes\{mount="\/",state="free"\} \d/m,
      /^vigil_system_network_bytes\{interface="lo",direction="receive"\} \d/m,
    ]) assert.match(text, pattern);
  });

  it('samples into history, served by the admin API with coded errors for bad ranges', async () => {
    const { app, clock } = await startIdentityApp({ monitor: { system: { sampleInterval: '1h' } } });
    const metrics = await app.registry.metrics();
    assert.match(metrics, /^vigil_process_open_fds \d/m);
    assert.match(metrics, /^vigil_nodejs_eventloop_lag_p99_seconds \d/m);
    assert.match(metrics, /^vigil_process_resident_memory_bytes \d/m);
    await app.monitor.sampleSystem();
    clock.advance(60_000);
    await app.monitor.sampleSystem();
    const now = clock.now();
    const cookie = await sessionCookie(app, await addUser(app, 'ops', 'operator', now), now);
    const res = await app.console.app.inject({ url: '/api/v1/system/history', headers: { cookie } });
    assert.equal(res.statusCode, 200);
    const { samples } = res.json() as { samples: Record<string, unknown>[] };
    assert.equal(samples.length, 2);
    const [sample] = samples;
    for (const key of ['cpuUsage', 'load1', 'memoryAvailableBytes', 'memoryTotalBytes', 'rssBytes', 'heapUsedBytes', 'eventLoopLagP99Ms', 'openFds']) {
      assert.equal(typeof sample?.[key], 'number', key);
    }
    const bad = await app.console.app.inject({ url: '/api/v1/system/history?from=x', headers: { cookie } });
    assert.equal(bad.statusCode, 400);
    assert.equal(errorCode(bad.body), 'VGL_MONITOR_BAD_QUERY');
    assert.equal((await app.console.app.inject({ url: '/api/v1/system/history' })).statusCode, 401);
  });
});
