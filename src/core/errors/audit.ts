import type { ErrorSpec } from '../errors.js';

/** The audit log. */
export const AUDIT_ERRORS = {
  VGL_AUDIT_WRITE_FAILED: {
    status: 503,
    cause: 'The audit log could not be written, and `audit.failClosed` is on, so the action was refused.',
    fix: 'Check the store (disk space, permissions); the action can be retried once the audit log is writable.',
  },
  VGL_AUDIT_TAMPERED: {
    status: 500,
    cause: '`vigil audit verify` found a modified, deleted, inserted or reordered audit entry, or a bad checkpoint signature.',
    fix: 'Investigate from the first entry reported; restore the audit log from backup and keep the tampered copy as evidence.',
  },
} as const satisfies Record<string, ErrorSpec>;
