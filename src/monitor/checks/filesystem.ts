import { randomBytes } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CheckConfig } from '../../config/schema.js';
import { ConfiguredCheck } from '../check.js';
import type { CheckFactory, CheckOutcome } from '../check.js';
import { codeOf, down, judge } from '../outcome.js';

type FilesystemConfig = Extract<CheckConfig, { type: 'filesystem' }>;

/**
 * Writes a small temporary file in `directory` (flushed to disk), reads it back, compares and
 * deletes it: catches read-only remounts, full disks and broken network mounts that a free-space
 * figure does not. The file is created exclusively (never follows or overwrites an existing one).
 */
export class FilesystemCheck extends ConfiguredCheck<'filesystem'> {
  readonly type = 'filesystem';

  constructor(config: FilesystemConfig) {
    super(config);
  }

  async run(): Promise<CheckOutcome> {
    const started = performance.now();
    const file = join(this.config.directory, `.vigil-probe-${randomBytes(8).toString('hex')}`);
    const content = randomBytes(32).toString('hex');
    let step = 'write';
    let created = false;
    try {
      const handle = await open(file, 'wx', 0o600);
      created = true;
      try {
        await handle.writeFile(content);
        await handle.sync();
      } finally {
        await handle.close();
      }
      step = 'read';
      if ((await readFile(file, 'utf8')) !== content) return down(performance.now() - started, 'read back different content than was written');
      step = 'delete';
      await unlink(file);
      created = false;
      return judge(this.config.conditions, {}, performance.now() - started, 'write, read and delete ok');
    } catch (err) {
      return down(performance.now() - started, `${step} failed (${codeOf(err)})`);
    } finally {
      if (created) await unlink(file).catch(() => undefined);
    }
  }
}

export const createFilesystemCheck: CheckFactory<'filesystem'> = (config) => new FilesystemCheck(config);
