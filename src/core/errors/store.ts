import type { ErrorSpec } from '../errors.js';

/** The data directory and the database. */
export const STORE_ERRORS = {
  VGL_STORE_DATA_DIR: {
    status: 500,
    cause: 'The data directory cannot be created or written, or its permissions are looser than 0700.',
    fix: 'Point `store.dataDir` (or VIGIL_DATA_DIR) at a directory Vigil owns and `chmod 700` it.',
  },
  VGL_STORE_FILE_PERMISSIONS: {
    status: 500,
    cause: 'A file holding Vigil data or keys is readable by group or others.',
    fix: 'Run `chmod 600` on the named file; Vigil refuses to use it until then.',
  },
  VGL_STORE_FAILED: {
    status: 500,
    cause: 'A read or write to the store failed.',
    fix: 'Check disk space and the store logs; the failed operation was not applied.',
  },
  VGL_STORE_MIGRATION: {
    status: 500,
    cause: 'The database schema is newer than this Vigil version, or a migration failed.',
    fix: 'Run the Vigil version that wrote the database, or restore a backup.',
  },
} as const satisfies Record<string, ErrorSpec>;
