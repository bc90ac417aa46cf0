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

/**
 * Hands log lines to the destination once per event-loop turn, joined, instead of one `write()`
 * per line. Measured reason: SonicBoom (pino's async destination) appends each line to its pending
 * buffer with `+=` and then calls `Buffer.byteLength()` on that buffer, which flattens the
 * growing string on every write — at one access line per request that was the largest single
 * allocation site in the gateway (bench/README.md, "Profile findings"). Joined once per turn,
 * the destination sees a few flat strings per turn. Lines keep their order; on process exit
 * pending lines are written synchronously.
 */
export class LineBatcher implements DestinationStream {
  private lines: string[] = [];
  private scheduled = false;

  constructor(private readonly target: BatchTarget) {}

  write(line: string): void {
    this.lines.push(line);
    if (this.scheduled) return;
    this.scheduled = true;
    pending.add(this);
    setImmediate(this.drain);
  }

  /** Hands the pending lines on now. */
  readonly drain = (): void => {
    this.scheduled = false;
    pending.delete(this);
    const { lines } = this;
    if (lines.length === 0) return;
    this.lines = [];
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
