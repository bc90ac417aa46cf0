import { isVigilError } from '../core/errors.js';

/** Prints an error the way every command does: the code and message, never a stack trace. */
export function printError(err: unknown): void {
  if (isVigilError(err)) console.error(`error ${err.code}: ${err.message}`);
  else console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
}

/** Runs a command body, printing a coded error and setting exit code 1 on failure. */
export async function run(body: () => Promise<void> | void): Promise<void> {
  try {
    await body();
  } catch (err) {
    printError(err);
    process.exitCode = 1;
  }
}

/**
 * A command's action whose implementation (src/cli/actions/) is imported only when that command
 * runs, so `vigil --help` and each command load just the modules they need. Runs like run().
 */
export function lazyAction<A extends unknown[]>(load: () => Promise<(...args: A) => Promise<void> | void>): (...args: A) => Promise<void> {
  return (...args) => run(async () => (await load())(...args));
}
