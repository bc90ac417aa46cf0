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

/** One Forwarded element's `for` node as written, and its `proto` and `host` (each left out when given twice). */
interface ForwardedElement {
  readonly node: string | undefined;
  readonly proto: string | undefined;
  readonly host: string | undefined;
}

/**
 * One Forwarded element (`for=…;proto=…;by=…`, parameter names in any case, values as tokens or
 * quoted strings); undefined when it is malformed anywhere or has `for` twice.
 */
function forwardedElement(element: string): ForwardedElement | undefined {
  let node: string | undefined;
  let proto: string | null | undefined;
  let host: string | null | undefined;
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
    } else if (name === 'proto') proto = proto === undefined ? value : null;
    else if (name === 'host') host = host === undefined ? value : null;
  }
  return { node, proto: proto ?? undefined, host: host ?? undefined };
}

/** The address a Forwarded element's `for` names; undefined when it names none or the element is malformed. */
function forwardedFor(element: string): string | undefined {
  const node = forwardedElement(element)?.node;
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
 * direct peer (as dispatch took it from the socket: an IPv4-mapped IPv6 peer already plain IPv4), unless the peer is one of
 * `gateway.trustedProxies`: then the one header `gateway.clientAddressHeader` names (X-Forwarded-For
 * or RFC 7239 Forwarded, never both) is read from the right, skipping trusted proxies, and the first
 * address that is not one is the client. A header from an untrusted peer is ignored entirely (it is
 * the client's own claim). A hop that names no address (`unknown`, an obfuscated identifier, a
 * Forwarded element without `for`, anything malformed) stops the walk at the last trusted hop: the
 * client cannot put any address of its choosing there. Without trusted proxies this is one check
 * and no allocation.
 */
export function clientAddress(peer: string, trusted: BlockList | undefined, headers: IncomingHttpHeaders, from: ClientAddressHeader = 'x-forwarded-for'): string {
  if (!trusted || !inList(trusted, peer)) return peer;
  const header = headers[from];
  if (header === undefined) return peer;
  const value = Array.isArray(header) ? header.join(',') : header;
  return from === 'forwarded' ? walkForwarded(value, trusted, peer) : walkForwardedFor(value, trusted, peer);
}

/** One URI scheme (RFC 3986 §3.1) of a sane length: not a list, no `:`. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]{0,31}$/;
/** One plain host (a name or IPv4 address, or a bracketed IPv6 address) with an optional port: no userinfo, spaces, controls or lists. */
const PLAIN_HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * A scheme a trusted hop claims (`proto=`, X-Forwarded-Proto), lowercased; undefined when it is not
 * one well-formed scheme, so the caller falls back to Vigil's own.
 */
export function validProto(value: string | undefined): string | undefined {
  return value !== undefined && SCHEME.test(value) ? value.toLowerCase() : undefined;
}

/**
 * A host a trusted hop claims (`host=`, X-Forwarded-Host) or the request's own Host; undefined when it
 * is not one plain `host[:port]`, which then goes into no header (it is quoted as is in `Forwarded`).
 */
export function validHost(value: string | undefined): string | undefined {
  return value !== undefined && PLAIN_HOST.test(value) ? value : undefined;
}

/**
 * What the trusted chain said before Vigil, read from the one header `gateway.clientAddressHeader`
 * names, so that the forwarding headers sent upstream all tell the same story (headers.ts).
 */
export interface PriorForwarding {
  /** The header the chain was read from; the other one the caller sent is never passed on. */
  readonly from: ClientAddressHeader;
  /**
   * Its hops, left to right, as the client-address walk reads them: addresses (ports dropped, IPv4-mapped
   * IPv6 as IPv4), and at the left end `undefined` for a hop that names none (`unknown`, obfuscated,
   * malformed), where the walk would stop: what lies to its left is the client's own unchecked claim
   * and is left out.
   */
  readonly hops: readonly (string | undefined)[];
  /** With `from: 'forwarded'`: `proto=` and `host=` of the element that names the client (where the walk stops), when present and well-formed. */
  readonly proto: string | undefined;
  readonly host: string | undefined;
}

function forwardedForHops(value: string): (string | undefined)[] {
  const hops: (string | undefined)[] = [];
  const elements = value.split(',');
  for (let i = elements.length - 1; i >= 0; i--) {
    const hop = nodeAddress(elements[i] ?? '');
    hops.push(hop);
    if (hop === undefined) break;
  }
  return hops.reverse();
}

function forwardedHops(value: string, trusted: BlockList): PriorForwarding {
  const hops: (string | undefined)[] = [];
  let client: ForwardedElement | undefined;
  let walking = true;
  let end = value.length;
  for (;;) {
    const start = elementStart(value, end);
    const element = start === -1 ? undefined : forwardedElement(value.slice(start, end));
    const hop = element?.node === undefined ? undefined : nodeAddress(element.node);
    hops.push(hop);
    if (hop === undefined) break;
    if (walking) {
      client = element;
      walking = inList(trusted, hop);
    }
    if (start === 0) break;
    end = start - 1;
  }
  return { from: 'forwarded', hops: hops.reverse(), proto: validProto(client?.proto), host: validHost(client?.host) };
}

/**
 * The chain behind a trusted proxy peer, for the forwarding headers sent upstream; undefined when the
 * peer is not one (what it sent is the client's own claim). Read when the request is forwarded, not
 * before: a request refused on the way costs nothing here.
 */
export function priorForwarding(peer: string, trusted: BlockList | undefined, headers: IncomingHttpHeaders, from: ClientAddressHeader): PriorForwarding | undefined {
  if (!trusted || !inList(trusted, peer)) return undefined;
  const header = headers[from];
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value === undefined || value.trim() === '') return { from, hops: [], proto: undefined, host: undefined };
  return from === 'forwarded' ? forwardedHops(value, trusted) : { from, hops: forwardedForHops(value), proto: undefined, host: undefined };
}
