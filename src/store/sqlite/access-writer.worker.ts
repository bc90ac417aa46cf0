// The access record writer thread: owns its own connection to the database file and runs the
// access record writes (batched inserts, retention deletes) there, off the main event loop.
// Started by AccessWriter (access-writer.ts); answers each request in the order it was sent.
import type Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { VigilError } from '../../core/errors.js';
import type { AccessWriteReply, AccessWriteRequest, AccessWriterData } from './access-writer.js';
import { ACCESS_COLUMNS } from './access-rows.js';
import type { AccessCell } from './access-rows.js';
import { openConnection } from './connection.js';

const port = parentPort;
if (!port) throw new Error('access-writer.worker is a worker thread entry, not a module to import');
const { file } = workerData as AccessWriterData;
const width = ACCESS_COLUMNS.length;

/** Opens the thread's connection and prepares the writes; a failure here ends the thread. */
function openWrites(): { db: Database.Database; insertMany: (cells: readonly AccessCell[]) => void; prune: Database.Statement<[number, number]> } {
  // The main connection created the file (0600) and its schema: this one never creates a database.
  const db = openConnection(file, { fileMustExist: true });
  try {
    const insert = db.prepare(`INSERT INTO access_records (${ACCESS_COLUMNS.join(', ')}) VALUES (${ACCESS_COLUMNS.map(() => '?').join(', ')})`);
    const insertMany = db.transaction((cells: readonly AccessCell[]) => {
      for (let i = 0; i < cells.length; i += width) insert.run(cells.slice(i, i + width));
    });
    // Bounded by LIMIT on the `at` index: each call is one short transaction.
    const prune = db.prepare<[number, number]>('DELETE FROM access_records WHERE id IN (SELECT id FROM access_records WHERE at < ? ORDER BY at LIMIT ?)');
    return { db, insertMany, prune };
  } catch (err) {
    db.close();
    // A VigilError keeps its message on the way to the main thread; the driver's error does not.
    throw new VigilError('VGL_STORE_FAILED', `cannot prepare the access record writes: ${(err as Error).message}`, { cause: err });
  }
}

// AccessWriter rejects what was sent to a thread that ended, and starts a new one later.
const { db, insertMany, prune } = openWrites();

function run(request: Exclude<AccessWriteRequest, { op: 'close' }>): number {
  if (request.op === 'append') {
    insertMany(request.cells);
    return request.cells.length / width;
  }
  return prune.run(request.before, request.limit).changes;
}

port.on('message', (request: AccessWriteRequest) => {
  if (request.op === 'close') {
    db.close();
    port.close();
    return;
  }
  let reply: AccessWriteReply;
  try {
    reply = { id: request.id, ok: true, value: run(request) };
  } catch (err) {
    // The driver's message and code only (never the records): it ends up in the log.
    const { code } = err as { code?: unknown };
    reply = { id: request.id, ok: false, message: (err as Error).message, code: typeof code === 'string' ? code : undefined };
  }
  port.postMessage(reply);
});
