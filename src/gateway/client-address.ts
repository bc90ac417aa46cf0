import type { IncomingHttpHeaders } from 'node:http';
import type { BlockList } from 'node:net';
import { familyOf, inList, plainAddress } from '../protection/ip-filter.js';

/** The one header the client address is read from behind trusted proxies (`gateway.clientAddressHeader`). */
export type ClientAddressHeader = 'x-forwarded-for' | 'forwarded';

const PORT = /^(?:\d{1,5}|_[A-Za-z0-9._-]+)$/;

/**
 * The address of one hop: `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]`, `[2001:db8::1]:443` or a bare
 * IPv6, a port possibly obfuscated (`_p1`, RFC 7239 §6.3). Anything else, `unknown` and obfuscated
 * identifiers (`_hidden`) included, is not an address: undefined.
 */
function nodeAddress(node: string): string | undefined {
  let text = node.trim().toLowerCase();
  let port: string | undefined;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end === -1) return undefined;
    const rest = text.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      port = rest.slice(1);
    }
    text = text.slice(1, end);
  } else {
    const colon = text.indexOf(':');
    if (colon !== -1 && colon === text.lastIndexOf(':')) {
      port = text.slice(colon + 1);
      text = text.slice(0, colon);
    }
  }
  if (port !== undefined && !PORT.test(port)) return undefined;
  const plain = plainAddress(text);
  return familyOf(plain) ? plain : undefined;
}

/** RFC 9110 token characters, for parameter names. */
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
/** Characters of an unquoted value: visible ASCII but the separators. Wider than a token, so a bare `[2001:db8::1]:4711` still reads. */
const VALUE_CHAR = /[\x21\x23-\x2b\x2d-\x3a\x3c-\x7e]/;

/** Characters a quoted string may hold (RFC 9110 qdtext and quoted-pair): no controls but HTAB. */
function quotable(c: string): boolean {
  return c === '\t' || (c >= ' ' && c !== '\x7f');
}

function skipSpace(text: string, i: number): number {
  while (text[i] === ' ' || text[i] === '\t') i++;
  return i;
}

/**
 * The `for` node of one Forwarded element (`for=…;proto=…;by=…`, parameter names in any case,
 * values as tokens or quoted strings); undefined when the element has none, has it twice, or is
 * malformed anywhere.
 */
function forwardedFor(element: string): string | undefined {
  let node: string | undefined;
  let i = 0;
  for (;;) {
    i = skipSpace(element, i);
    if (i === element.length) break;
    if (element[i] === ';') {
      i++;
      continue;
    }
    const nameStart = i;
    while (i < element.length && TCHAR.test(element[i] as string)) i++;
    if (i === nameStart || element[i] !== '=') return undefined;
    const name = element.slice(nameStart, i).toLowerCase();
    i++;
    let value = '';
    if (element[i] === '"') {
      for (i++; ; i++) {
        const c = element[i];
        if (c === undefined || !quotable(c)) return undefined;
        if (c === '"') break;
        if (c === '\\') {
          i++;
          const escaped = element[i];
          if (escaped === undefined || !quotable(escaped)) return undefined;
          value += escaped;
        } else value += c;
      }
      i++;
    } else {
      const valueStart = i;
      while (i < element.length && VALUE_CHAR.test(element[i] as string)) i++;
      value = element.slice(valueStart, i);
    }
    i = skipSpace(element, i);
    if (i < element.length && element[i] !== ';') return undefined;
    if (name === 'for') {
      if (node !== undefined) return undefined;
      node = value;
    }
  }
  return node === undefined ? undefined : nodeAddress(node);
}

/**
 * Where the Forwarded element that ends at `end` starts: after the nearest comma to its left that is
 * outside a quoted string, or 0; -1 when a quote is left open. Read from the right, so the elements
 * trusted proxies appended parse the same whatever the client put to their left.
 */
function elementStart(value: string, end: number): number {
  let quoted = false;
  for (let i = end - 1; i >= 0; i--) {
    const c = value[i];
    if (!quoted) {
      if (c === ',') return i + 1;
      if (c === '"') quoted = true;
    } else if (c === '"') {
      let backslashes = 0;
      while (value[i - 1 - backslashes] === '\\') backslashes++;
      if (backslashes % 2 === 0) quoted = false;
    }
  }
  return quoted ? -1 : 0;
}

/** The walk over a Forwarded value: the same rules as over X-Forwarded-For, one element at a time from the right. */
function walkForwarded(value: string, trusted: BlockList, peer: string): string {
  let ip = peer;
  let end = value.length;
  for (;;) {
    const start = elementStart(value, end);
    const hop = start === -1 ? undefined : forwardedFor(value.slice(start, end));
    if (hop === undefined) return ip;
    ip = hop;
    if (!inList(trusted, hop) || start === 0) return ip;
    end = start - 1;
  }
}

function walkForwardedFor(value: string, trusted: BlockList, peer: string): string {
  let ip = peer;
  const elements = value.split(',');
  for (let i = elements.length - 1; i >= 0; i--) {
    const hop = nodeAddress(elements[i] ?? '');
    if (hop === undefined) return ip;
    ip = hop;
    if (!inList(trusted, hop)) return hop;
  }
  return ip;
}

/**
 * The client address of a request, resolved once in dispatch and carried as `ctx.clientIp`: the
 * direct peer (an IPv4-mapped IPv6 peer as plain IPv4), unless the peer is one of
 * `gateway.trustedProxies`: then the one header `gateway.clientAddressHeader` names (X-Forwarded-For
 * or RFC 7239 Forwarded, never both) is read from the right, skipping trusted proxies, and the first
 * address that is not one is the client. A header from an untrusted peer is ignored entirely (it is
 * the client's own claim). A hop that names no address (`unknown`, an obfuscated identifier, a
 * Forwarded element without `for`, anything malformed) stops the walk at the last trusted hop: the
 * client cannot put any address of its choosing there. Without trusted proxies this is one check
 * and no allocation.
 */
export function clientAddress(peer: string, trusted: BlockList | undefined, headers: IncomingHttpHeaders, from: ClientAddressHeader = 'x-forwarded-for'): string {
  const ip = plainAddress(peer);
  if (!trusted || !inList(trusted, ip)) return ip;
  const header = headers[from];
  if (header === undefined) return ip;
  const value = Array.isArray(header) ? header.join(',') : header;
  return from === 'forwarded' ? walkForwarded(value, trusted, ip) : walkForwardedFor(value, trusted, ip);
}
