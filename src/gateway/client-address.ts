import type { IncomingHttpHeaders } from 'node:http';
import type { BlockList } from 'node:net';
import { familyOf, inList, plainAddress } from '../protection/ip-filter.js';

/** One address from an X-Forwarded-For element: `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:443` or a bare IPv6. */
function forwardedAddress(element: string): string | undefined {
  let text = element.trim();
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    text = end === -1 ? '' : text.slice(1, end);
  } else if (text.indexOf(':') !== -1 && text.indexOf(':') === text.lastIndexOf(':')) {
    text = text.slice(0, text.indexOf(':'));
  }
  const plain = plainAddress(text);
  return familyOf(plain) ? plain : undefined;
}

/**
 * The client address of a request, resolved once in dispatch and carried as `ctx.clientIp`: the
 * direct peer (an IPv4-mapped IPv6 peer as plain IPv4), unless the peer is one of
 * `gateway.trustedProxies`: then X-Forwarded-For is read from the right, skipping trusted proxies,
 * and the first address that is not one is the client. A header from an untrusted peer is ignored
 * entirely (it is the client's own claim), and a malformed element stops the walk at the last
 * trusted hop. Without trusted proxies this is one check and no allocation.
 */
export function clientAddress(peer: string, trusted: BlockList | undefined, headers: IncomingHttpHeaders): string {
  let ip = plainAddress(peer);
  if (!trusted || !inList(trusted, ip)) return ip;
  const forwardedFor = headers['x-forwarded-for'];
  if (forwardedFor === undefined) return ip;
  const elements = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  for (let i = elements.length - 1; i >= 0; i--) {
    const hop = forwardedAddress(elements[i] ?? '');
    if (hop === undefined) return ip;
    ip = hop;
    if (!inList(trusted, hop)) return hop;
  }
  return ip;
}
