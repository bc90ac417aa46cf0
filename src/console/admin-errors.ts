import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEvent } from '../audit/sink.js';
import { errorBody, isVigilError, VigilError } from '../core/errors.js';
import { LoginLockedError } from '../identity/index.js';
import type { Identity } from '../identity/index.js';

/**
 * Coded JSON errors for admin routes registered in `scope`: a VigilError keeps its code and status,
 * a request Fastify refused (schema, size, content type) becomes VGL_CONSOLE_BAD_REQUEST naming
 * what was wrong, and anything else is a logged 500 without internals.
 */
export function installAdminErrors(scope: FastifyInstance): void {
  scope.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof LoginLockedError) reply.header('retry-after', String(err.retryAfterSeconds));
    if (isVigilError(err)) return send(reply, request, err.status, err);
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const where = err.validation ? `request ${err.validationContext ?? 'body'}: ${err.message}` : err.message;
      return send(reply, request, status, new VigilError('VGL_CONSOLE_BAD_REQUEST', where));
    }
    request.log.error({ err }, 'admin request failed');
    return send(reply, request, 500, new VigilError('VGL_STORE_FAILED', 'the request failed inside Vigil; details are in the log'));
  });
}

function send(reply: FastifyReply, request: FastifyRequest, status: number, err: VigilError): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(errorBody(err.code, err.message, request.id));
}

/**
 * Runs a mutating admin action and records it through the audit sink: `success`, or `failure`
 * with the error code (the error then reaches the caller unchanged).
 */
export async function audited<T>(
  identity: Identity,
  request: FastifyRequest,
  event: { action: string; target: string; details?: Record<string, unknown> },
  now: () => number,
  action: () => Promise<T>,
): Promise<T> {
  const base: Omit<AuditEvent, 'result'> = {
    at: now(),
    actor: request.principal?.user.username ?? 'anonymous',
    action: event.action,
    target: event.target,
    sourceIp: request.ip,
    details: event.details,
  };
  let result: T;
  try {
    result = await action();
  } catch (err) {
    await identity.audit.record({ ...base, at: now(), result: 'failure', details: { ...event.details, code: isVigilError(err) ? err.code : 'error' } });
    throw err;
  }
  await identity.audit.record({ ...base, at: now(), result: 'success' });
  return result;
}
