import { z } from 'zod';
import { httpHeaderName } from './schema-parts.js';

/** Gateway header rules: what a route may set or remove on the way up and down. */

/** Header values may not carry CR, LF or NUL (response splitting) and stay within one line. */
export const HEADER_VALUE = /^[^\r\n\0]{0,8192}$/;

/** Headers Vigil owns on the way upstream; a route may not set or remove them. */
export const RESERVED_REQUEST = new Set([
  'host', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'content-length', 'x-request-id', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded',
]);
const RESERVED_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'x-request-id', 'upgrade', 'trailer']);

export const headerName = (reserved: ReadonlySet<string>) =>
  httpHeaderName.refine((value) => !reserved.has(value), { message: 'is managed by the gateway and cannot be changed by a route' });

const headerRules = (reserved: ReadonlySet<string>, what: string) =>
  z
    .strictObject({
      set: z
        .record(headerName(reserved), z.string().regex(HEADER_VALUE, 'must be one line without CR, LF or NUL, at most 8192 characters'))
        .default({})
        .describe(`Headers set on the ${what}, replacing any the other side sent. Values may use \${ENV} (e.g. an upstream API key), so callers never hold it.`),
      remove: z.array(headerName(reserved)).default([]).describe(`Header names removed from the ${what}.`),
    })
    .prefault({});

export const routeHeaders = z
  .strictObject({
    request: headerRules(RESERVED_REQUEST, 'request sent upstream'),
    response: headerRules(RESERVED_RESPONSE, 'response sent to the client'),
  })
  .prefault({})
  .describe('Header changes on the way up and down.');
