/**
 * Collects records in memory and writes them in one transaction every `intervalMs` or when
 * `maxBatch` are queued, so the request path never waits on the disk. Bounded: past `maxQueue`
 * records the oldest unwritten ones are dropped and reported to `onDropped`, rather than growing
 * without limit.
 */
export class BatchWriter<T> {
  private queue: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (batch: readonly T[]) => Promise<void>,
    private readonly onError: (err: unknown, lost: number) => void,
    private readonly options: { intervalMs: number; maxBatch: number; maxQueue: number },
    /** Called for each record dropped because the queue was full. */
    private readonly onDropped: () => void = () => undefined,
  ) {}

  push(record: T): void {
    if (this.queue.length >= this.options.maxQueue) {
      this.queue.shift();
      this.onDropped();
    }
    this.queue.push(record);
    if (this.queue.length >= this.options.maxBatch) void this.flush();
    else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.options.intervalMs).unref();
  }

  /** Writes everything queued so far; resolves when it is on disk (or reported lost). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.queue.length === 0) return this.flushing;
    const batch = this.queue;
    this.queue = [];
    this.flushing = this.flushing.then(() =>
      this.write(batch).catch((err: unknown) => this.onError(err, batch.length)),
    );
    return this.flushing;
  }
}
