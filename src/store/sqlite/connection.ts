import Database from 'better-sqlite3';
import { VigilError } from '../../core/errors.js';

/**
 * Opens one connection to the database file with the settings every Vigil connection shares: WAL
 * (readers never block the writer), NORMAL sync, a 5 s wait for a busy lock, foreign keys on.
 */
export function openConnection(file: string, options: Database.Options = {}): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, options);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (err) {
    db?.close();
    throw new VigilError('VGL_STORE_FAILED', `cannot open ${file}: ${(err as Error).message}`, { cause: err });
  }
}
