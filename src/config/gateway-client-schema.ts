import { z } from 'zod';
import { cidr, duration } from './schema-parts.js';

/** Gateway client side: limits on what clients may send, and which proxies may tell their address. */

export const gatewayLimits = z
  .strictObject({
    maxBodyBytes: z
      .number()
      .int()
      .min(0)
      .default(10 * 1024 * 1024)
      .describe('Largest request body (bytes) a route accepts unless it sets its own; 413 beyond. Counted as the body streams, so chunked bodies are limited too. 0 means no limit.'),
    maxUrlLength: z.number().int().min(16).max(65_536).default(8192).describe('Longest request target (path and query) accepted; 414 beyond.'),
    maxConnections: z.number().int().min(0).default(0).describe('Most client connections held open at once; further ones are closed at accept. 0 means no limit.'),
    headersTimeout: duration.prefault('10s').describe('Time a client has to send the complete request headers (against slowloris); 408 after.'),
    requestTimeout: duration
      .prefault('5m')
      .describe('Time a client has to send the complete request, body included (against slow uploads); 408 after. `0s` means none.'),
    keepAliveTimeout: duration.prefault('5s').describe('How long an idle client connection is kept open for its next request.'),
  })
  .prefault({})
  .describe('Limits on what clients may send.');

export const trustedProxies = z
  .array(cidr)
  .max(1000)
  .default([])
  .describe('Addresses or CIDRs of proxies in front of Vigil whose forwarding header (the one `clientAddressHeader` names) is kept and appended to; from anyone else all forwarding headers are replaced (docs/gateway.md#forwarding).');

export const clientAddressHeader = z
  .enum(['x-forwarded-for', 'forwarded'])
  .default('x-forwarded-for')
  .describe('The one header the client address is read from when the peer is a trusted proxy: `x-forwarded-for`, or `forwarded` (RFC 7239 `for=`). The other is never read for it, and upstream it is rebuilt from this one rather than passed on (docs/protection.md).');
