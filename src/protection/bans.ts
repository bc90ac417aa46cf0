import { BlockList } from 'node:net';
import type { Redis } from 'ioredis';
import { parseCidr } from '../config/schema-parts.js';
import type { VigilConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { VigilError } from '../core/errors.js';
import type { EventBus } from '../core/bus.js';
import type { SecurityEventRecorder } from '../identity/security-events.js';
import type { Ban, SecurityEvent, SecuritySeverity } from '../store/records.js';
import type { BanRepository } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';
import { addressGroup, cidrList, familyOf, inList, plainAddress } from './ip-filter.js';
import type { BanCheck } from './rate-limit-protection.js';

/**
 * Bans, fail2ban/CrowdSec style: scenarios count security events in leaky buckets per address or
 * identity and ban when one overflows, each repeat offence for longer; operators ban and lift by hand.
 * Bans are stored (they survive restarts), polled from the store (changes by the CLI), and shared
 * between instances through Redis pub/sub. The allow list is never banned, whatever the source.
 */

type BansConfig = VigilConfig['bans'];
type Scenario = BansConfig['scenarios'][number];

const SEVERITY: Record<SecuritySeverity, number> = { low: 0, medium: 1, high: 2, critical: 3 };
const IDENTITY = /^[\x21-\x7e]{1,200}$/;

/** `target` as stored: an address or network in canonical form, or an identity; throws VGL_BAN_TARGET_INVALID. */
export function banTarget(text: string): { target: string; kind: Ban['kind'] } {
  const value = text.trim();
  const [address = '', given] = value.split('/');
  const plain = plainAddress(address);
  // `::ffff:192.0.2.0/120` is the IPv4 network 192.0.2.0/24, the form the address is matched in.
  const prefix = given !== undefined && plain !== address && /^\d{1,3}$/.test(given) ? String(Number(given) - 96) : given;
  if (familyOf(plain)) {
    const cidr = parseCidr(prefix === undefined ? plain : `${plain}/${prefix}`);
    if (!cidr) throw new VigilError('VGL_BAN_TARGET_INVALID', `'${value}' has an invalid prefix length`);
    const max = cidr.family === 'ipv4' ? 32 : 128;
    if (cidr.prefix === max) return { target: plain, kind: 'ip' };
    return { target: cidr.family === 'ipv6' ? addressGroup(plain, cidr.prefix) : `${plain}/${cidr.prefix}`, kind: 'ip' };
  }
  if (!IDENTITY.test(value) || value.includes('/')) throw new VigilError('VGL_BAN_TARGET_INVALID', 'a ban target is an IP address, a CIDR, or an identity of 1-200 printable characters');
  return { target: value, kind: 'identity' };
}

function matches(pattern: string, type: string): boolean {
  return pattern === '*' || (pattern.endsWith('*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type);
}

export interface BanDeps {
  repo: BanRepository;
  clock: Clock;
  logger: Logger;
  securityEvents: SecurityEventRecorder;
  bus: EventBus;
  ipv6Prefix: number;
  /** The connection for publishing, and a key prefix; subscribing uses a duplicate of it. */
  redis?: { client: Redis; prefix: string } | undefined;
}

export class BanService implements BanCheck {
  private active = new Map<string, Ban>();
  private addresses = new BlockList();
  /** IP bans in `addresses`: none (the usual case) answers every request without a BlockList lookup. */
  private ipBans = 0;
  private readonly allow: BlockList | undefined;
  private readonly buckets = new Map<string, { level: number; at: number }>();
  private revision = -1;
  private poller: NodeJS.Timeout | undefined;
  private subscriber: Redis | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly config: BansConfig,
    private readonly deps: BanDeps,
  ) {
    this.allow = cidrList(config.allowList);
  }

  private get channel(): string {
    return `${this.deps.redis?.prefix ?? ''}bans`;
  }

  async start(): Promise<void> {
    await this.reload();
    this.poller = setInterval(() => void this.pollStore(), 1000);
    this.poller.unref();
    if (this.config.scenarios.length > 0) this.unsubscribe = this.deps.bus.on('security.event', (event) => this.observe(event));
    const redis = this.deps.redis;
    if (redis) {
      const subscriber = redis.client.duplicate({ enableOfflineQueue: true });
      subscriber.on('error', () => undefined);
      subscriber.on('message', (_channel: string, message: string) => void this.fromPeer(message));
      this.subscriber = subscriber;
      await subscriber.subscribe(this.channel).catch((err: unknown) => this.deps.logger.warn({ err }, 'ban sharing through Redis not available yet; retrying in the background'));
    }
  }

  async stop(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    this.unsubscribe?.();
    this.subscriber?.disconnect();
    await Promise.resolve();
  }

  allowListed(ip: string): boolean {
    return inList(this.allow, plainAddress(ip));
  }

  bannedAddress(ip: string): Ban | undefined {
    if (this.ipBans === 0) return undefined;
    const plain = plainAddress(ip);
    if (this.allowListed(plain)) return undefined;
    const family = familyOf(plain);
    if (!family || !this.addresses.check(plain, family)) return undefined;
    const now = this.deps.clock.now();
    for (const ban of this.active.values()) {
      if (ban.kind !== 'ip' || ban.expiresAt <= now) continue;
      const cidr = parseCidr(ban.target);
      // No family comparison: BlockList matches an IPv4 client against IPv4-mapped IPv6 networks (`::ffff:0:0/96`) too.
      if (cidr) {
        const one = new BlockList();
        one.addSubnet(cidr.address, cidr.prefix, cidr.family);
        if (one.check(plain, family)) return ban;
      }
    }
    return undefined;
  }

  bannedIdentity(identity: string): Ban | undefined {
    const ban = this.active.get(identity);
    return ban && ban.kind === 'identity' && ban.expiresAt > this.deps.clock.now() ? ban : undefined;
  }

  list(): Ban[] {
    const now = this.deps.clock.now();
    return [...this.active.values()].filter((b) => b.expiresAt > now);
  }

  /** Bans by hand (admin API, CLI) for `durationMs`; refused for an allow-listed address. */
  async add(text: string, durationMs: number, reason: string, actor: string): Promise<Ban> {
    const { target, kind } = banTarget(text);
    if (kind === 'ip' && this.coversAllowed(target)) throw new VigilError('VGL_BAN_ALLOWLISTED', `${target} is on bans.allowList and is never banned`);
    const prior = await this.deps.repo.get(target);
    const now = this.deps.clock.now();
    const ban: Ban = { target, kind, reason, source: `manual:${actor}`, createdAt: now, expiresAt: now + durationMs, offences: (prior?.offences ?? 0) + 1, removedAt: null };
    await this.save(ban, true);
    return ban;
  }

  async remove(text: string): Promise<void> {
    const { target } = banTarget(text);
    const now = this.deps.clock.now();
    if (!(await this.deps.repo.remove(target, now))) throw new VigilError('VGL_BAN_NOT_FOUND', `no active ban of ${target}`);
    const ban = await this.deps.repo.get(target);
    if (ban) this.publish(ban);
    await this.reload();
    void this.record('ban.removed', 'low', target, { target });
  }

  /** A scenario event: fills the target's bucket; an overflow bans it. */
  private observe(event: SecurityEvent): void {
    // A banned client's refused requests never extend its own ban.
    if (event.type.startsWith('ban.')) return;
    for (const scenario of this.config.scenarios) {
      if (SEVERITY[event.severity] < SEVERITY[scenario.minSeverity] || !scenario.events.some((p) => matches(p, event.type))) continue;
      const subject = scenario.by === 'ip' ? event.sourceIp : event.identity;
      if (!subject) continue;
      if (scenario.by === 'ip' && this.allowListed(subject)) continue;
      const target = scenario.by === 'ip' ? addressGroup(subject, this.deps.ipv6Prefix) : subject;
      if (this.overflows(scenario, target)) void this.autoBan(scenario, target, event.type).catch((err: unknown) => this.deps.logger.error({ err }, 'automatic ban failed'));
    }
  }

  private overflows(scenario: Scenario, target: string): boolean {
    const key = `${scenario.name}\0${target}`;
    const now = this.deps.clock.now();
    const bucket = this.buckets.get(key) ?? { level: 0, at: now };
    bucket.level = Math.max(0, bucket.level - (now - bucket.at) / scenario.leak) + 1;
    bucket.at = now;
    if (bucket.level > scenario.capacity) {
      this.buckets.delete(key);
      return true;
    }
    this.buckets.set(key, bucket);
    if (this.buckets.size > 100_000) this.sweepBuckets(now);
    return false;
  }

  private sweepBuckets(now: number): void {
    const leak = Math.min(...this.config.scenarios.map((s) => s.leak * s.capacity));
    for (const [key, bucket] of this.buckets) if (now - bucket.at > leak) this.buckets.delete(key);
  }

  private async autoBan(scenario: Scenario, target: string, cause: string): Promise<void> {
    const now = this.deps.clock.now();
    const current = this.active.get(target);
    if (current && current.expiresAt > now) return;
    const prior = await this.deps.repo.get(target);
    const repeat = prior && now - prior.expiresAt < this.config.forgetAfter ? prior.offences : 0;
    const length = Math.min(scenario.maxBanFor, scenario.banFor * scenario.factor ** repeat);
    const ban: Ban = {
      target,
      kind: scenario.by === 'ip' ? 'ip' : 'identity',
      reason: `scenario ${scenario.name}: more than ${scenario.capacity} ${cause} events`,
      source: `scenario:${scenario.name}`,
      createdAt: now,
      expiresAt: now + length,
      offences: repeat + 1,
      removedAt: null,
    };
    await this.save(ban, true);
  }

  private async save(ban: Ban, announce: boolean): Promise<void> {
    await this.deps.repo.put(ban);
    await this.reload();
    if (!announce) return;
    this.publish(ban);
    void this.record('ban.created', 'high', ban.kind === 'ip' ? ban.target : null, { target: ban.target, source: ban.source, reason: ban.reason, offences: ban.offences, expiresAt: ban.expiresAt });
  }

  private publish(ban: Ban): void {
    const redis = this.deps.redis;
    if (!redis) return;
    redis.client.publish(this.channel, JSON.stringify(ban)).catch((err: unknown) => this.deps.logger.warn({ err }, 'ban could not be shared through Redis'));
  }

  /** A ban from another instance: stored here too (so it survives this instance's restart). */
  private async fromPeer(message: string): Promise<void> {
    try {
      const ban = JSON.parse(message) as Ban;
      const { target, kind } = banTarget(String(ban.target));
      if (kind === 'ip' && ban.removedAt === null && this.coversAllowed(target)) return;
      const prior = await this.deps.repo.get(target);
      if (prior && prior.createdAt === ban.createdAt && prior.removedAt === ban.removedAt) return;
      await this.deps.repo.put({ ...ban, target, kind });
      await this.reload();
    } catch (err) {
      this.deps.logger.warn({ err }, 'ignored a malformed ban message from Redis');
    }
  }

  private coversAllowed(target: string): boolean {
    if (!this.allow) return false;
    const cidr = parseCidr(target);
    if (!cidr) return false;
    // A ban that contains an allow-listed address is refused: the allow list is never banned. Either may be IPv4-mapped IPv6; BlockList matches across.
    for (const entry of this.config.allowList) {
      const allowed = parseCidr(entry);
      if (!allowed) continue;
      const ban = new BlockList();
      ban.addSubnet(cidr.address, cidr.prefix, cidr.family);
      if (ban.check(allowed.address, allowed.family) || this.allow.check(cidr.address, cidr.family)) return true;
    }
    return false;
  }

  private async pollStore(): Promise<void> {
    try {
      if ((await this.deps.repo.revision()) !== this.revision) await this.reload();
    } catch (err) {
      this.deps.logger.error({ err }, 'bans could not be read');
    }
  }

  private async reload(): Promise<void> {
    const revision = await this.deps.repo.revision();
    const bans = await this.deps.repo.active(this.deps.clock.now());
    const addresses = new BlockList();
    let ipBans = 0;
    for (const ban of bans) {
      const cidr = ban.kind === 'ip' ? parseCidr(ban.target) : undefined;
      if (cidr) {
        addresses.addSubnet(cidr.address, cidr.prefix, cidr.family);
        ipBans++;
      }
    }
    this.active = new Map(bans.map((b) => [b.target, b]));
    this.addresses = addresses;
    this.ipBans = ipBans;
    this.revision = revision;
  }

  private record(type: string, severity: SecuritySeverity, sourceIp: string | null, details: Record<string, unknown>): Promise<void> {
    return this.deps.securityEvents.record({ at: this.deps.clock.now(), type, severity, sourceIp, identity: null, correlationId: null, details });
  }
}
