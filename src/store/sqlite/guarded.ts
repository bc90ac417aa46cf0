import { VigilError } from '../../core/errors.js';

/** Runs a synchronous SQLite call and turns driver errors into coded store errors. */
export function guarded<T>(what: string, fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(new VigilError('VGL_STORE_FAILED', `${what} failed: ${(err as Error).message}`, { cause: err }));
  }
}
