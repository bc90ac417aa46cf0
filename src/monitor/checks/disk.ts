import { statfs } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { CheckConfig } from '../../config/schema.js';
import { ConfiguredCheck } from '../check.js';
import type { CheckFactory, CheckOutcome } from '../check.js';
import { codeOf, down, judge } from '../outcome.js';

type DiskConfig = Extract<CheckConfig, { type: 'disk' }>;

/**
 * Free space of the file system holding `path`, as an unprivileged process sees it (blocks
 * reserved for root do not count). The free percentage is the result's value.
 */
export class DiskCheck extends ConfiguredCheck<'disk'> {
  readonly type = 'disk';

  constructor(config: DiskConfig) {
    super(config);
  }

  async run(): Promise<CheckOutcome> {
    const started = performance.now();
    let stats;
    try {
      stats = await statfs(this.config.path);
    } catch (err) {
      return down(performance.now() - started, `cannot measure the file system (${codeOf(err)})`);
    }
    const latencyMs = performance.now() - started;
    const freeBytes = stats.bavail * stats.bsize;
    const totalBytes = stats.blocks * stats.bsize;
    const freePercent = totalBytes === 0 ? 0 : Math.round((freeBytes / totalBytes) * 1000) / 10;
    const summary = `${freePercent}% free (${formatBytes(freeBytes)} of ${formatBytes(totalBytes)})`;
    if (freePercent < this.config.minFreePercent) return { ...down(latencyMs, `${summary}, below ${this.config.minFreePercent}%`), value: freePercent };
    if (freeBytes < this.config.minFreeBytes) return { ...down(latencyMs, `${summary}, below ${formatBytes(this.config.minFreeBytes)}`), value: freePercent };
    return judge(this.config.conditions, { VALUE: freePercent }, latencyMs, summary, freePercent);
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export const createDiskCheck: CheckFactory<'disk'> = (config) => new DiskCheck(config);
