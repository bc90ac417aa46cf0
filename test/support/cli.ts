import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers.js';

/**
 * The built CLI, run with plain `node` as an operator runs it: starting it through tsx compiles the
 * whole CLI on every spawn. scripts/test.mjs refuses to run when dist/ is missing or older than src/.
 */
export const VIGIL_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Arguments for `spawn(process.execPath, vigilArgs('start', …))`, for a long-running `vigil`. */
export function vigilArgs(...args: string[]): string[] {
  return [VIGIL_MAIN, ...args];
}

export interface VigilRunOptions {
  /** Written to stdin, then closed. */
  input?: string;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  timeout?: number;
}

/** Runs `vigil …args` to completion. */
export function runVigil(args: string[], options: VigilRunOptions = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, vigilArgs(...args), {
    encoding: 'utf8',
    input: options.input ?? '',
    env: { ...process.env, ...options.env },
    timeout: options.timeout ?? 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A temp dir with a config pointing at its own data dir, and a function that runs `vigil … --config` there. */
export function cliWorkspace() {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const config = join(dir, 'vigil.yaml');
  writeFileSync(config, `store: { dataDir: "${dataDir}" }\n`);
  const vigil = (args: string[], input?: string) => runVigil([...args, '--config', config], { input });
  return { dir, dataDir, vigil };
}
