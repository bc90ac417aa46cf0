import { errors as undiciErrors } from 'undici';
import { VigilError } from '../core/errors.js';

/** Maps an undici failure to the coded error the client receives. */
export function upstreamError(err: unknown): VigilError {
  if (
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError
  ) {
    return new VigilError('VGL_GATEWAY_UPSTREAM_TIMEOUT', 'the upstream did not answer in time', { cause: err });
  }
  return new VigilError('VGL_GATEWAY_UPSTREAM_UNREACHABLE', 'the upstream could not be reached', { cause: err });
}

/** True for failures where the upstream cannot have received any of the request. */
export function failedBeforeSending(err: unknown): boolean {
  if (err instanceof undiciErrors.ConnectTimeoutError) return true;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EAI_AGAIN' || code === 'ENOTFOUND';
}

/** True when the upstream did not send its headers or body in time. */
export function timedOut(err: unknown): boolean {
  return err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError;
}
