import { isVigilError } from '../core/errors.js';
import type { AuditEvent, AuditSink } from './sink.js';

/**
 * Runs an action between two audit entries: `requested` before (if that write fails, a fail-closed
 * sink throws and the action never runs), then `success` or `failure` with the error code.
 */
export async function withAudit<T>(sink: AuditSink, event: Omit<AuditEvent, 'result'>, action: () => Promise<T>): Promise<T> {
  await sink.record({ ...event, result: 'requested' });
  let result: T;
  try {
    result = await action();
  } catch (err) {
    const code = isVigilError(err) ? err.code : 'error';
    await sink.record({ ...event, result: 'failure', details: { ...event.details, code } });
    throw err;
  }
  await sink.record({ ...event, result: 'success' });
  return result;
}
