import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveDataDir } from '../../store/data-dir.js';
import type { LoadedConfig } from '../../config/load.js';
import { VigilError } from '../../core/errors.js';
import { loadConfigWithSecrets } from '../../vault/config-secrets.js';

const PID_FILE = 'vigil.pid';

/** Records the running process's pid in the data dir (0600), so `vigil reload` can find it; returns the remover. */
export function writePidFile(loaded: LoadedConfig, env: NodeJS.ProcessEnv): () => void {
  const file = join(resolveDataDir(loaded, env), PID_FILE);
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  return () => {
    // Only our own: a newer instance may have replaced it.
    if (readPid(file) === process.pid) rmSync(file, { force: true });
  };
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` runs Vigil (on Linux checked through /proc, so a reused pid is never signalled). */
function isVigil(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /vigil|cli[/\\]main\.[jt]s/.test(cmdline);
  } catch {
    return true; // no /proc on this system: the pid file and a live process are all we can check
  }
}

/** Sends SIGHUP to the Vigil running on this data directory: it re-reads its config and swaps the gateway routes. */
export function signalReload(loaded: LoadedConfig, env: NodeJS.ProcessEnv): number {
  const file = join(resolveDataDir(loaded, env), PID_FILE);
  const pid = readPid(file);
  if (pid === undefined) throw new VigilError('VGL_RELOAD_NOT_RUNNING', `no running Vigil found: ${file} is missing or unreadable`);
  if (!isVigil(pid)) throw new VigilError('VGL_RELOAD_NOT_RUNNING', `no running Vigil found: ${file} names pid ${pid}, which is not a running Vigil (stale pid file)`);
  process.kill(pid, 'SIGHUP');
  return pid;
}

export async function runReload(opts: { config?: string }): Promise<void> {
  // Read the same way `vigil start` does, so the data directory resolves identically.
  const loaded = await loadConfigWithSecrets(opts.config, process.env);
  const pid = signalReload(loaded, process.env);
  console.log(`reload requested (SIGHUP to pid ${pid}); the outcome is in Vigil's log ('gateway routes reloaded' or 'reload refused')`);
}
