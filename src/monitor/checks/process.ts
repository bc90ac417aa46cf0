import { readdir, readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { CheckConfig } from '../../config/schema.js';
import { ConfiguredCheck } from '../check.js';
import type { CheckFactory, CheckOutcome } from '../check.js';
import { codeOf, down, judge } from '../outcome.js';
import { formatBytes } from './disk.js';

type ProcessConfig = Extract<CheckConfig, { type: 'process' }>;

/**
 * Up when the process named by `pidFile` (or any process whose command name is `processName`) is
 * alive, and its resident memory is under `maxRss`. Reads /proc, so Linux only; the RSS in bytes
 * is the result's value.
 */
export class ProcessCheck extends ConfiguredCheck<'process'> {
  readonly type = 'process';

  constructor(config: ProcessConfig) {
    super(config);
  }

  async run(): Promise<CheckOutcome> {
    const started = performance.now();
    const found = this.config.pidFile === undefined ? await findByName(this.config.processName ?? '') : await findByPidFile(this.config.pidFile);
    const latencyMs = performance.now() - started;
    if (typeof found === 'string') return down(latencyMs, found);
    const rss = await rssOf(found);
    if (rss === undefined) return down(latencyMs, `process ${found} is not running`);
    const summary = `process ${found} running, RSS ${formatBytes(rss)}`;
    if (this.config.maxRss !== undefined && rss > this.config.maxRss) return { ...down(latencyMs, `${summary}, above ${formatBytes(this.config.maxRss)}`), value: rss };
    return judge(this.config.conditions, { VALUE: rss }, latencyMs, summary, rss);
  }
}

async function findByPidFile(file: string): Promise<number | string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return `cannot read pid file (${codeOf(err)})`;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return 'pid file does not hold a process ID';
  return pid;
}

async function findByName(name: string): Promise<number | string> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch (err) {
    return `cannot list processes (${codeOf(err)})`;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => undefined);
    if (comm?.trim() === name) return Number(entry);
  }
  return `no process named ${name}`;
}

/** Resident memory in bytes, or undefined when the process does not exist (or is a zombie). */
async function rssOf(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  if (status === undefined || /^State:\s+Z/m.test(status)) return undefined;
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

export const createProcessCheck: CheckFactory<'process'> = (config) => new ProcessCheck(config);
