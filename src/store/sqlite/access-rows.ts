import type { AccessRecord } from '../records.js';

/** The stored columns of an access record, in the order a flattened batch carries them. */
export const ACCESS_COLUMNS = ['at', 'request_id', 'route', 'method', 'path', 'status', 'duration_ms', 'client_ip', 'key_id', 'error_code'] as const;

export type AccessCell = string | number | null;

/**
 * A batch as one flat array of column values, row after row, for the writer thread. Copying it to
 * the thread costs the main thread less than copying the record objects (no property names per
 * row, and the fields that are not stored — the upstream timings — are left out).
 */
export function flattenAccessRecords(records: readonly AccessRecord[]): AccessCell[] {
  const cells: AccessCell[] = [];
  for (const r of records) cells.push(r.at, r.requestId, r.route, r.method, r.path, r.status, r.durationMs, r.clientIp, r.keyId, r.errorCode);
  return cells;
}
