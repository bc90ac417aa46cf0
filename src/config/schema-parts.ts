import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { parseDuration } from '../core/duration.js';

/** Field schemas shared by the config schema and its per-area parts (check types). */

const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
export const name = (what: string) =>
  z.string().regex(NAME, `${what} must be 1-63 characters of a-z, 0-9, '_', '.', '-', starting with a letter or digit`);

/** A duration as `250ms`, `2s`, `5m`, `1h`, `7d`, or a number of milliseconds; parsed to milliseconds. */
export const duration = z
  .union([z.string(), z.number().int().nonnegative()])
  .transform((value, ctx) => {
    if (typeof value === 'number') return value;
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `'${value}' is not a duration (use e.g. 500ms, 2s, 5m, 1h, 7d)` });
      return z.NEVER;
    }
    return ms;
  })
  .describe('Duration: 500ms, 2s, 5m, 1h, 7d, or milliseconds as a number.');

/** An HTTP header name: 1-256 token characters (RFC 9110). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;

/** A header name as Vigil compares it: lower-cased. */
export const httpHeaderName = z
  .string()
  .regex(HEADER_NAME, 'must be an HTTP header name (token characters only)')
  .transform((value) => value.toLowerCase());

export const httpUrl = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an absolute http:// or https:// URL');

export const cidr = z.string().refine((value) => parseCidr(value) !== undefined, 'must be an IP address or CIDR, e.g. 10.0.0.0/8 or fd00::/8');

/** `address[/prefix]` split and checked; undefined when malformed. */
export function parseCidr(value: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', bits, extra] = value.split('/');
  if (extra !== undefined) return undefined;
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (!family) return undefined;
  const max = family === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, family };
}
