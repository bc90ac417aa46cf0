import { readdir } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { SystemSample } from '../store/records.js';
import { SystemReadings } from './system-readings.js';

/**
 * Host and process metrics for Prometheus, read at scrape time: CPU, load, memory, disk per mount
 * and network bytes per interface (`vigil_system_*`). Process RSS, heap, open file descriptors and
 * event-loop lag come from prom-client's defaults (`vigil_process_*`, `vigil_nodejs_*`). `sample()`
 * takes one snapshot for the history table.
 */
export class SystemMetrics {
  private readonly readings = new SystemReadings();
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  /** CPU usage is a delta: the scrape and the sampler each keep their own baseline. */
  private readonly sampleReadings = new SystemReadings();

  constructor(registry: Registry) {
    this.loopDelay.enable();
    const readings = this.readings;
    new Gauge({
      name: 'vigil_system_cpu_usage_ratio',
      help: 'Busy share of all CPUs since the previous scrape (0-1).',
      registers: [registry],
      collect() {
        this.set(readings.cpuUsage());
      },
    });
    new Gauge({
      name: 'vigil_system_load_average',
      help: 'System load average over 1, 5 and 15 minutes.',
      labelNames: ['period'],
      registers: [registry],
      collect() {
        const [one, five, fifteen] = readings.load();
        this.set({ period: '1m' }, one);
        this.set({ period: '5m' }, five);
        this.set({ period: '15m' }, fifteen);
      },
    });
    new Gauge({
      name: 'vigil_system_memory_bytes',
      help: 'Host memory: total, and available (free plus reclaimable cache).',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const memory = await readings.memory();
        this.set({ state: 'total' }, memory.totalBytes);
        this.set({ state: 'available' }, memory.availableBytes);
      },
    });
    new Gauge({
      name: 'vigil_system_disk_bytes',
      help: 'Size and space available to unprivileged users, per mounted file system.',
      labelNames: ['mount', 'state'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const disk of await readings.disks()) {
          this.set({ mount: disk.mount, state: 'total' }, disk.totalBytes);
          this.set({ mount: disk.mount, state: 'free' }, disk.freeBytes);
        }
      },
    });
    new Gauge({
      name: 'vigil_system_network_bytes',
      help: 'Bytes received and transmitted per network interface since boot (use rate()).',
      labelNames: ['interface', 'direction'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const nic of await readings.network()) {
          this.set({ interface: nic.interface, direction: 'receive' }, nic.receiveBytes);
          this.set({ interface: nic.interface, direction: 'transmit' }, nic.transmitBytes);
        }
      },
    });
  }

  /** One snapshot for history; the event-loop figure covers the time since the previous sample. */
  async sample(at: number): Promise<SystemSample> {
    const memory = await this.sampleReadings.memory();
    const usage = process.memoryUsage();
    const fds = await readdir('/proc/self/fd').then((list) => list.length, () => null);
    const lagMs = Number.isFinite(this.loopDelay.percentile(99)) ? this.loopDelay.percentile(99) / 1e6 : 0;
    this.loopDelay.reset();
    return {
      at,
      cpuUsage: Math.round(this.sampleReadings.cpuUsage() * 10_000) / 10_000,
      load1: Math.round(this.sampleReadings.load()[0] * 100) / 100,
      memoryAvailableBytes: memory.availableBytes,
      memoryTotalBytes: memory.totalBytes,
      rssBytes: usage.rss,
      heapUsedBytes: usage.heapUsed,
      eventLoopLagP99Ms: Math.round(lagMs * 100) / 100,
      openFds: fds,
    };
  }

  close(): void {
    this.loopDelay.disable();
  }
}
