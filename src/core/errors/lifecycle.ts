import type { ErrorSpec } from '../errors.js';

/** Starting, reloading and stopping the process. */
export const LIFECYCLE_ERRORS = {
  VGL_LISTEN_FAILED: {
    status: 500,
    cause: 'A listener could not bind its address (port in use, or not permitted).',
    fix: 'Free the port or change `listen` in the configuration.',
  },
  VGL_RELOAD_NOT_RUNNING: {
    status: 500,
    cause: '`vigil reload` found no running Vigil for this data directory (no `vigil.pid`, or it names a process that is not Vigil).',
    fix: 'Start Vigil with `vigil start`, or pass the same `--config` the running instance uses; or send SIGHUP to its pid yourself.',
  },
  VGL_SHUTDOWN_TIMEOUT: {
    status: 500,
    cause: 'Graceful shutdown did not finish within `shutdown.timeout`: remaining connections were closed, or the access record writer thread was ended with the records it had not written (`lost`).',
    fix: 'Raise `shutdown.timeout` if long streams must be allowed to finish; for lost access records, check the disk and what holds locks on the database.',
  },
} as const satisfies Record<string, ErrorSpec>;
