import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { parseCidr } from '../config/schema-parts.js';

/** Addresses as the protection stages see them: plain IPv4 for mapped peers, IPv6 grouped by network. */

/** `::ffff:10.0.0.1` (a dual-stack listener's IPv4 peer) as `10.0.0.1`; anything else unchanged. */
export function plainAddress(ip: string): string {
  return ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

export function familyOf(ip: string): 'ipv4' | 'ipv6' | undefined {
  return isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined;
}

/** CIDRs (validated by the config schema) as one BlockList, or undefined when there are none. */
export function cidrList(cidrs: readonly string[]): BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const value of cidrs) {
    const parsed = parseCidr(value);
    if (parsed) list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return list;
}

export function inList(list: BlockList | undefined, ip: string): boolean {
  if (!list) return false;
  const family = familyOf(ip);
  return family !== undefined && list.check(ip, family);
}

/** The eight 16-bit groups of an IPv6 address (embedded IPv4 tail included); undefined when malformed. */
function ipv6Words(ip: string): number[] | undefined {
  if (!isIPv6(ip)) return undefined;
  const zone = ip.indexOf('%');
  let text = zone === -1 ? ip : ip.slice(0, zone);
  const lastColon = text.lastIndexOf(':');
  const v4 = text.slice(lastColon + 1);
  if (isIPv4(v4)) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return undefined;
  return [...left, ...new Array<number>(missing).fill(0), ...right];
}

/**
 * The unit limits and bans apply to: an IPv4 address as is, an IPv6 address as its network of
 * `prefix` bits (`2001:db8:1:2::/64`), since one customer usually holds a whole /64 and could
 * otherwise rotate through 2^64 addresses.
 */
export function addressGroup(ip: string, prefix: number): string {
  const plain = plainAddress(ip);
  if (prefix >= 128 || !isIPv6(plain)) return plain;
  const words = ipv6Words(plain);
  if (!words) return plain;
  const out = words.map((word, i) => {
    const bits = Math.max(0, Math.min(16, prefix - i * 16));
    return bits === 16 ? word : bits === 0 ? 0 : word & ((0xffff << (16 - bits)) & 0xffff);
  });
  return `${compressIpv6(out)}/${prefix}`;
}

/** The canonical (RFC 5952) text of eight groups: lowercase, the longest zero run as `::`. */
function compressIpv6(words: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Compiled allow and deny lists; deny wins, and a non-empty allow list refuses everyone else. */
export class IpFilter {
  private readonly allow: BlockList | undefined;
  private readonly deny: BlockList | undefined;
  readonly empty: boolean;

  constructor(config: { allow: readonly string[]; deny: readonly string[] }) {
    this.allow = cidrList(config.allow);
    this.deny = cidrList(config.deny);
    this.empty = !this.allow && !this.deny;
  }

  /** Why the address is refused, or undefined when it is admitted. */
  refusal(ip: string): 'deny' | 'allow' | undefined {
    if (inList(this.deny, ip)) return 'deny';
    if (this.allow && !inList(this.allow, ip)) return 'allow';
    return undefined;
  }
}
