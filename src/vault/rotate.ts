import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync } from 'node:fs';
import { VigilError } from '../core/errors.js';
import type { MasterKey } from './master-key.js';
import { createKeyFile, nextKeyFile, promoteNextKeyFile } from './master-key.js';
import type { Vault } from './vault.js';
import { dataKeyAad } from './vault.js';
import { seal } from './crypto.js';

export interface RotateOptions {
  /** Data keys re-wrapped per batch. */
  batchSize: number;
  /** Pause between batches, to keep a large rotation gentle on a busy store. */
  pauseMs: number;
  onProgress?: (done: number) => void;
}

export interface RotateResult {
  from: string[];
  to: string;
  rewrapped: number;
  /** True when the key was in a file and the new key is now that file; false for VIGIL_MASTER_KEY. */
  promoted: boolean;
  /** Where the retired key file was kept (0400), when there was one. */
  backup?: string;
}

/**
 * Re-wraps every data key under a new master key without stopping anything: new writes use the new
 * key as soon as it exists, and reads find whichever key wraps a row. Each row is switched with a
 * compare-and-set, so the run can be killed at any point and simply run again: it resumes with the
 * rows still wrapped by another key, then makes the new key file the key file.
 */
export async function rotateMasterKey(vault: Vault, options: RotateOptions): Promise<RotateResult> {
  const ring = vault.keyring;
  if (ring.fromEnv && !ring.next) {
    throw new VigilError('VGL_VAULT_MASTER_KEY_INVALID', 'the master key comes from VIGIL_MASTER_KEY: set VIGIL_MASTER_KEY_NEXT to the new key to rotate to');
  }
  if (!ring.fromEnv && !existsSync(nextKeyFile(ring.file))) createKeyFile(nextKeyFile(ring.file));
  ring.reload();
  const target = ring.next as MasterKey;
  const retired = ring.current;
  let rewrapped = 0;
  const pass = async (): Promise<void> => {
    for (;;) {
      const batch = await vault.repo.wrappedByOther(target.id, options.batchSize);
      if (batch.length === 0) return;
      for (const record of batch) {
        const source = record.masterKeyId === retired?.id ? retired : vault.masterFor(record);
        const dataKey = vault.unwrap(record, source);
        const wrapped = seal(target.key, dataKey, dataKeyAad(record.name, record.version));
        dataKey.fill(0);
        if (await vault.repo.rewrap(record.name, record.version, record.masterKeyId, wrapped, target.id)) rewrapped++;
      }
      options.onProgress?.(rewrapped);
      if (options.pauseMs > 0) await sleep(options.pauseMs);
    }
  };
  await pass();
  const from = [retired?.id].filter((id): id is string => id !== undefined && id !== target.id);
  if (ring.fromEnv) return { from, to: target.id, rewrapped, promoted: false };
  const backup = promoteNextKeyFile(ring.file, retired?.id);
  // A process that had not yet seen the new key may have written one last row with the old key.
  await pass();
  ring.reload();
  return { from, to: target.id, rewrapped, promoted: true, backup };
}
