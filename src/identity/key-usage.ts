import type { KeyRepository, KeyUsage } from '../store/store.js';

/** How often noted key uses are written. */
export const KEY_USAGE_FLUSH_MS = 5000;

/**
 * Last-use times and addresses of API keys, kept in memory (one entry per key, the latest use)
 * and written in one transaction every few seconds: the request path never waits on the disk,
 * and a busy key costs one row update per interval, not one per request.
 */
export class KeyUsageBuffer {
  private pending = new Map<string, KeyUsage>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: KeyRepository,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs = KEY_USAGE_FLUSH_MS,
  ) {}

  note(id: string, ip: string, at: number): void {
    this.pending.set(id, { id, ip, at });
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  flush(): Promise<void> {
    if (this.pending.size > 0) {
      const batch = [...this.pending.values()];
      this.pending = new Map();
      this.writing = this.writing.then(() => this.repo.recordUsage(batch).catch(this.onError));
    }
    return this.writing;
  }
}
