import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

/** A temp dir with a config pointing at its own data dir, and a function that runs `vigil … --config` there. */
export function cliWorkspace() {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const config = join(dir, 'vigil.yaml');
  writeFileSync(config, `store: { dataDir: "${dataDir}" }\n`);
  const vigil = (args: string[], input?: string) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args, '--config', config], { encoding: 'utf8', input: input ?? '', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return { dir, dataDir, vigil };
}
