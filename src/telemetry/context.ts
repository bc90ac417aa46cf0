import { randomUUID } from 'node:crypto';

const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The caller's `X-Request-Id` or `X-Correlation-ID` when it is a sane token (so it cannot inject
 * into logs), else a fresh UUID.
 */
export function requestIdFrom(headerValue: string | string[] | undefined): string {
  const value = Array.isArray(headerValue) ? headerValue[0] : headerValue;
  return value !== undefined && VALID_ID.test(value) ? value : randomUUID();
}
