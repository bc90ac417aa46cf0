import type { ErrorSpec } from '../errors.js';

/** Monitor checks, heartbeats and their history. */
export const MONITOR_ERRORS = {
  VGL_MONITOR_CHECK_SETUP: {
    status: 500,
    cause: 'A configured check could not be set up at start (for example its `caFile` cannot be read).',
    fix: 'Fix the file or setting named in the message; the check index and name are given.',
  },
  VGL_MONITOR_HEARTBEAT_UNAUTHORIZED: {
    status: 401,
    cause: 'A heartbeat ping named an unknown check or carried a missing or wrong token.',
    fix: 'Send `Authorization: Bearer <token>` with the `token` configured for that heartbeat check.',
  },
  VGL_MONITOR_BAD_QUERY: {
    status: 400,
    cause: 'A monitor history query has a malformed or impossible parameter (time, range, resolution or limit).',
    fix: 'Use ISO 8601 or epoch-millisecond times with from < to, resolution raw or hour, limit 1-5000.',
  },
  VGL_MONITOR_CHECK_NOT_FOUND: {
    status: 404,
    cause: 'No configured check has the given name.',
    fix: 'List checks with `GET /api/v1/monitors`.',
  },
} as const satisfies Record<string, ErrorSpec>;
