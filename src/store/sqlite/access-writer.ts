import { Worker } from 'node:worker_threads';
import { VigilError } from '../../core/errors.js';
import type { AccessRecord } from '../records.js';
import { flattenAccessRecords } from './access-rows.js';
import type { AccessCell } from './access-rows.js';

/** What the writer thread is started with. */
export interface AccessWriterData {
  readonly file: string;
}

export type AccessWriteRequest =
  | { readonly id: number; readonly op: 'append'; readonly cells: readonly AccessCell[] }
  | { readonly id: number; readonly op: 'prune'; readonly before: number; readonly limit: number }
  | { readonly op: 'close' };

export type AccessWriteReply =
  | { readonly id: number; readonly ok: true; readonly value: number }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly code: string | undefined };

type Call = Exclude<AccessWriteRequest, { op: 'close' }>;
type CallBody = Call extends infer C ? (C extends Call ? Omit<C, 'id'> : never) : never;

interface Pending {
  readonly what: string;
  /** Access records in the request (0 for a prune): what is lost if it is never answered. */
  readonly records: number;
  readonly resolve: (value: number) => void;
  readonly reject: (err: VigilError) => void;
}

/** First restart delay after the thread stopped; doubled after every further stop, up to RESTART_MAX_MS. */
const RESTART_BASE_MS = 100;
const RESTART_MAX_MS = 30_000;

/** What the writer reports besides its calls' answers: for metrics and the shutdown log. */
export interface AccessWriterEvents {
  /** A thread is started again after the previous one stopped (crashed, or could not open the database). */
  readonly restarted?: () => void;
  /** close() reached its deadline and ended the thread; `records` access records it had been sent were not written. */
  readonly abandoned?: (records: number) => void;
}

/**
 * Runs the access record writes in a worker thread with its own connection to the database file,
 * so the main event loop never waits for a batch's transaction or a WAL checkpoint's fsync.
 *
 * Requests are answered in the order they were sent. If the thread stops (a crash, or it cannot
 * open the database), what it was sent is rejected with `VGL_STORE_FAILED`, so are the calls made
 * until it is back, and it is started again after 100 ms, doubling to at most 30 s while it keeps
 * failing; the first successful call resets the delay. The thread starts with the first call and
 * never keeps the process alive on its own, only while it has requests to answer.
 *
 * `close(deadline)` waits for the thread at most until the deadline: a thread held by a stuck disk
 * or a lock is ended then, and what it had not answered is rejected like a crash's.
 */
export class AccessWriter {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Consecutive stops without a successful call in between: drives the restart delay. */
  private stops = 0;
  /** Why calls are refused while the thread is down and a restart is scheduled. */
  private downReason = '';
  private restartTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  /** The thread starts with the first call: a store that never writes access records (most `vigil` commands) never starts it. */
  private started = false;

  constructor(
    private readonly file: string,
    private readonly events: AccessWriterEvents = {},
  ) {}

  appendMany(records: readonly AccessRecord[]): Promise<void> {
    return this.call('access record write', records.length, { op: 'append', cells: flattenAccessRecords(records) }).then(() => undefined);
  }

  pruneBefore(before: number, limit: number): Promise<number> {
    return this.call('access record prune', 0, { op: 'prune', before, limit });
  }

  /**
   * Lets the thread finish what it was sent, close its connection and exit; later calls are rejected.
   * At `deadline` (epoch ms) the thread is ended instead, what it had not answered is rejected with
   * VGL_STORE_FAILED, `events.abandoned` is told how many records that was, and close resolves.
   */
  close(deadline = Infinity): Promise<void> {
    this.closing ??= this.shutdown(deadline);
    return this.closing;
  }

  /** Ends the thread at once, without closing its connection, as a crash does. For the tests of the recovery path. */
  async crash(): Promise<void> {
    await this.worker?.terminate();
  }

  private start(): void {
    let worker: Worker;
    try {
      worker = startWorkerThread({ file: this.file } satisfies AccessWriterData);
    } catch (err) {
      this.restartLater(`could not start: ${(err as Error).message}`);
      return;
    }
    worker.unref();
    let error: Error | undefined;
    worker.on('message', (reply: AccessWriteReply) => this.settle(reply));
    worker.on('error', (err) => (error = err));
    // An error crosses the thread boundary as a copy that may have lost its message.
    worker.on('exit', (code) => this.stopped(worker, error?.message ? error.message : `exit code ${code}`));
    this.worker = worker;
  }

  private call(what: string, records: number, body: CallBody): Promise<number> {
    if (!this.started && !this.closing) {
      this.started = true;
      this.start();
    }
    const worker = this.worker;
    if (this.closing) return Promise.reject(failed(what, 'the store is closed'));
    if (!worker) return Promise.reject(failed(what, this.downReason));
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      try {
        worker.postMessage({ ...body, id } satisfies AccessWriteRequest);
      } catch (err) {
        reject(failed(what, (err as Error).message));
        return;
      }
      this.pending.set(id, { what, records, resolve, reject });
      // Keeps the process alive until the answer is in, and no longer.
      if (this.pending.size === 1) worker.ref();
    });
  }

  private settle(reply: AccessWriteReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0 && !this.closing) this.worker?.unref();
    if (reply.ok) {
      this.stops = 0;
      pending.resolve(reply.value);
    } else {
      pending.reject(failed(pending.what, reply.message, Object.assign(new Error(reply.message), { code: reply.code })));
    }
  }

  private stopped(worker: Worker, reason: string): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    for (const { what, reject } of this.pending.values()) reject(failed(what, `the access record writer thread stopped (${reason})`));
    this.pending.clear();
    if (!this.closing) this.restartLater(reason);
  }

  private restartLater(reason: string): void {
    const delay = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** this.stops++);
    this.downReason = `the access record writer thread stopped (${reason}); it restarts in ${delay} ms`;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.events.restarted?.();
      this.start();
    }, delay).unref();
  }

  private shutdown(deadline: number): Promise<void> {
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = Number.isFinite(deadline) ? setTimeout(() => resolve(this.abandon(worker)), Math.max(0, deadline - Date.now())) : undefined;
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.ref();
      worker.postMessage({ op: 'close' } satisfies AccessWriteRequest);
    });
  }

  /** The deadline passed before the thread exited: it is ended, and close does not wait for that. */
  private abandon(worker: Worker): void {
    let records = 0;
    for (const pending of this.pending.values()) records += pending.records;
    this.stopped(worker, 'ended at the shutdown deadline');
    // A thread blocked inside SQLite (a busy wait, a stuck fsync) ends only once that call returns:
    // meanwhile it must not keep the process alive.
    worker.unref();
    void worker.terminate();
    this.events.abandoned?.(records);
  }
}

function failed(what: string, reason: string, cause?: Error): VigilError {
  return new VigilError('VGL_STORE_FAILED', `${what} failed: ${reason}`, cause && { cause });
}

/**
 * Starts the writer thread from the entry file beside this module: the built .js in production.
 * Under tsx (the tests run src/), Node 20 does not apply the `--import tsx` hooks inside worker
 * threads, so the thread registers them itself before loading the .ts entry.
 */
function startWorkerThread(workerData: AccessWriterData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./access-writer.worker.js', import.meta.url), { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./access-writer.worker.ts', import.meta.url);
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
