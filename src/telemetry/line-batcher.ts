import type { DestinationStream } from 'pino';

/** What the batcher writes into: pino's SonicBoom destination (flushSync when the process exits). */
export interface BatchTarget extends DestinationStream {
  flushSync?: () => void;
}

/** Batchers holding lines not yet handed on; drained synchronously if the process exits first. */
const pending = new Set<LineBatcher>();
process.on('exit', () => {
  for (const batcher of pending) batcher.drainSync();
});

/** Longest a line waits before it is handed on. */
export const LINE_BATCH_MS = 20;
/** Pending text that is handed on at once, without waiting for the timer. */
export const LINE_BATCH_BYTES = 64 * 1024;

/**
 * Hands log lines to the destination in batches: every LINE_BATCH_MS, or as soon as
 * LINE_BATCH_BYTES are pending, joined into one write. Measured reasons (bench/README.md,
 * "Profile findings"): each async file write costs tens of µs of CPU (a thread-pool round trip),
 * which at one write per event-loop turn was several percent of the gateway's CPU; and SonicBoom
 * (pino's async destination) appends each line to its pending buffer with `+=` and then calls
 * `Buffer.byteLength()` on it, flattening the growing string on every write. Lines keep their
 * order; on process exit pending lines are written synchronously. A crash (SIGKILL) loses at most
 * the last LINE_BATCH_MS of lines, as it would lose what SonicBoom still buffers.
 */
export class LineBatcher implements DestinationStream {
  private lines: string[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly target: BatchTarget) {}

  write(line: string): void {
    this.lines.push(line);
    this.bytes += line.length;
    if (this.bytes >= LINE_BATCH_BYTES) return this.drain();
    if (this.timer) return;
    pending.add(this);
    this.timer = setTimeout(this.drain, LINE_BATCH_MS);
    this.timer.unref();
  }

  /** Hands the pending lines on now. */
  readonly drain = (): void => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    pending.delete(this);
    const { lines } = this;
    if (lines.length === 0) return;
    this.lines = [];
    this.bytes = 0;
    this.target.write(lines.length === 1 ? (lines[0] as string) : lines.join(''));
  };

  /** On exit: pending lines go out synchronously, whatever the destination still buffers too. */
  drainSync(): void {
    this.drain();
    try {
      this.target.flushSync?.();
    } catch {
      // A destination that is not ready or already closed: nothing more can be done at exit.
    }
  }
}
