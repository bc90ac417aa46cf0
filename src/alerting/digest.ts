import { CronExpressionParser } from 'cron-parser';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import { notificationPayload } from './payload.js';

const DAY = 86_400_000;

/** Where the digest reads what is not in the store's alert tables. */
export interface DigestSources {
  /** Uptime share (0-1, null without runs) of every check over the last 24h. */
  uptime(now: number): Promise<{ check: string; uptime: number | null }[]>;
  /** Spend over [from, to), when usage data exists; undefined when none is recorded. */
  spend?(from: number, to: number): Promise<{ total: number; currency: string; lines: string[] } | undefined>;
}

export interface DigestContent {
  title: string;
  text: string;
  sections: { heading: string; lines: string[] }[];
}

/** The digest of the 24 hours before `now`: alerts, uptime, security events, spend. */
export async function buildDigest(store: Store, sources: DigestSources | undefined, now: number): Promise<DigestContent> {
  const from = now - DAY;
  const events = await store.alertLog.events({ from, to: now, limit: 10_000 });
  const fired = new Map<string, number>();
  for (const e of events) if (e.event === 'firing') fired.set(e.alertId, (fired.get(e.alertId) ?? 0) + 1);
  const count = (event: string) => events.filter((e) => e.event === event).length;
  const open = (await store.alerts.open()).filter((a) => a.state === 'firing');
  const alerts = [
    `${fired.size} alert(s) fired ${[...fired.values()].reduce((a, b) => a + b, 0)} time(s); ${count('resolved')} resolved; ${count('acknowledged')} acknowledged; ${count('escalated')} escalation step(s)`,
    ...[...fired.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([id, n]) => `${id}: fired ${n}x`),
    open.length === 0 ? 'nothing is firing now' : `firing now: ${open.map((a) => `${a.id} (${a.severity})`).join(', ')}`,
  ];
  const uptime =
    sources === undefined ? ['uptime not available'] : (await sources.uptime(now)).map((u) => `${u.check}: ${u.uptime === null ? 'no runs' : `${(u.uptime * 100).toFixed(2)}%`}`);
  const security = (await store.securityEvents.recent(10_000)).filter((e) => e.at >= from && e.at < now);
  const byType = new Map<string, number>();
  for (const e of security) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
  const securityLines = security.length === 0 ? ['no security events'] : [...byType.entries()].sort((a, b) => b[1] - a[1]).map(([type, n]) => `${type}: ${n}`);
  const spend = await sources?.spend?.(from, now);
  const spendLines = spend === undefined ? ['no usage data is recorded, so spend is not available'] : [`total ${spend.total.toFixed(2)} ${spend.currency}`, ...spend.lines];
  const sections = [
    { heading: 'Alerts', lines: alerts },
    { heading: 'Uptime (24h)', lines: uptime.length === 0 ? ['no checks configured'] : uptime },
    { heading: 'Security events', lines: securityLines },
    { heading: 'Spend', lines: spendLines },
  ];
  const title = `Vigil daily digest ${new Date(from).toISOString().slice(0, 16)}Z – ${new Date(now).toISOString().slice(0, 16)}Z`;
  const text = [title, ...sections.flatMap((s) => ['', `${s.heading}:`, ...s.lines.map((l) => `  ${l}`)])].join('\n');
  return { title, text, sections };
}

/** Sends the digest to its receiver through the outbox when its cron time comes. A digest due while Vigil was down is not sent late. */
export class Digest {
  readonly receiver: string;
  private next: number;

  constructor(
    private readonly config: { receiver: string; cron: string; timezone: string },
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly sources: DigestSources | undefined,
  ) {
    this.receiver = config.receiver;
    this.next = this.after(clock.now());
  }

  nextAt(): number {
    return this.next;
  }

  /** Queues the digest when it is due; true when it did. */
  async sendIfDue(): Promise<boolean> {
    const now = this.clock.now();
    if (now < this.next) return false;
    this.next = this.after(now);
    const digest = await buildDigest(this.store, this.sources, now);
    const body = JSON.parse(notificationPayload({ kind: 'digest', receiver: this.receiver, groupKey: 'digest', groupLabels: {}, alerts: [] }, now)) as Record<string, unknown>;
    const payload = JSON.stringify({ ...body, digest });
    await this.store.outbox.enqueue({ alertId: `digest:${now}`, receiver: this.receiver, kind: 'digest', payload, createdAt: now });
    return true;
  }

  private after(at: number): number {
    return CronExpressionParser.parse(this.config.cron, { currentDate: new Date(at), tz: this.config.timezone }).next().getTime();
  }
}
