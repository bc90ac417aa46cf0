import type { VigilConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import type { Alert, AlertReceipt, NotificationKind } from '../store/records.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';
import { ackUrl, signAckToken } from './ack.js';
import type { ActiveSilence } from './muting.js';
import { compileSilences, Muting } from './muting.js';
import type { AlertView } from './payload.js';
import { notificationPayload } from './payload.js';
import type { Route } from './routing.js';
import { groupKey, groupLabels, matchRoutes, routeTree } from './routing.js';

/** Alerts of one route and receiver that share their group labels: one notification covers them all. */
interface Group {
  key: string;
  route: Route;
  labels: Record<string, string>;
  /** By alert ID: the latest state of each alert, resolved ones until their notice is decided. */
  alerts: Map<string, Alert>;
  /** When the group is next looked at. */
  nextAt: number;
  lastFlushAt: number | undefined;
  lastSentAt: number | undefined;
  /** `id@episode` of the firing alerts the last notification carried. */
  sent: Set<string>;
}

/** What one group has to say at a flush. */
interface Pending {
  group: Group;
  firing: Alert[];
  resolved: Alert[];
}

const episodeKey = (a: Alert): string => `${a.id}@${a.pendingSince}`;
/** Without a group interval, a group is still looked at this often, so ended silences and windows take effect. */
const IDLE_RECHECK_MS = 60_000;

/**
 * Routing, grouping and muting (Alertmanager's dispatcher), plus escalation and the per-receiver rate
 * limit. Alert changes go into groups; `tick()` flushes the groups that are due into the outbox. Every
 * moment comes from the injected clock: a timer calls `tick()` in production, tests call it directly.
 */
export class Dispatcher {
  private readonly root: Route | undefined;
  private readonly groups = new Map<string, Group>();
  private readonly muting: Muting;
  /** Send times within the current window, per receiver. */
  private readonly sends = new Map<string, number[]>();
  private readonly cooldownUntil = new Map<string, number>();
  /** Alerts already recorded as suppressed in the history, with the reason, so it is written once. */
  private readonly suppressed = new Map<string, string>();

  constructor(
    private readonly config: VigilConfig['alerting'],
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly ackKey: Buffer | undefined,
  ) {
    this.root = routeTree(config);
    this.muting = new Muting(config.maintenance, config.inhibit);
  }

  /** Takes an alert change: records it and puts it into the group of each route that takes it. */
  async observe(alert: Alert): Promise<void> {
    const now = this.clock.now();
    await this.store.alertLog.append({ alertId: alert.id, at: now, event: alert.state, severity: alert.severity, detail: alert.summary });
    if (alert.state === 'pending') return;
    if (alert.state === 'resolved') this.suppressed.delete(episodeKey(alert));
    for (const group of this.groups.values()) if (group.alerts.has(alert.id)) group.alerts.delete(alert.id);
    if (this.root === undefined) {
      this.logger.warn({ alert: alert.id }, 'alert not notified: no receivers are configured');
      return;
    }
    const routes = matchRoutes(this.root, alert.labels);
    if (routes.length === 0) this.logger.warn({ alert: alert.id, labels: alert.labels }, 'alert matches no route');
    for (const route of routes) {
      const labels = groupLabels(route, alert.labels);
      const key = groupKey(route, labels);
      let group = this.groups.get(key);
      if (group === undefined) {
        group = { key, route, labels, alerts: new Map(), nextAt: now + route.groupWait, lastFlushAt: undefined, lastSentAt: undefined, sent: new Set() };
        this.groups.set(key, group);
      } else if (group.lastFlushAt !== undefined) {
        group.nextAt = Math.min(group.nextAt, Math.max(now, group.lastFlushAt + route.groupInterval));
      }
      group.alerts.set(alert.id, alert);
    }
    if (alert.state === 'resolved') await this.resolveEscalations(alert, now);
  }

  /** The earliest moment a group or an escalation step is due; undefined when nothing is waiting. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const g of this.groups.values()) next = Math.min(next ?? g.nextAt, g.nextAt);
    return next;
  }

  /** Flushes every group that is due now. */
  async tick(): Promise<void> {
    const now = this.clock.now();
    const due = [...this.groups.values()].filter((g) => g.nextAt <= now);
    if (due.length === 0) return;
    const silences = compileSilences(await this.store.silences.list(now));
    const firingEverywhere = this.firingAlerts();
    const byReceiver = new Map<string, Pending[]>();
    for (const group of due) {
      const pending = await this.collect(group, firingEverywhere, silences, now);
      await this.escalate(group, firingEverywhere, silences, now);
      group.lastFlushAt = now;
      group.nextAt = now + (group.route.groupInterval || IDLE_RECHECK_MS);
      if (pending === undefined) {
        this.dropSettled(group);
        continue;
      }
      const list = byReceiver.get(group.route.receiver) ?? [];
      list.push(pending);
      byReceiver.set(group.route.receiver, list);
    }
    for (const [receiver, pendings] of byReceiver) await this.sendLimited(receiver, pendings, now);
    for (const group of due) this.wakeForEscalation(group, now);
  }

  private firingAlerts(): Alert[] {
    const seen = new Map<string, Alert>();
    for (const g of this.groups.values()) for (const a of g.alerts.values()) if (a.state === 'firing') seen.set(a.id, a);
    return [...seen.values()];
  }

  /** What a due group has to send, or undefined when nothing changed and no repeat is due. */
  private async collect(group: Group, firingEverywhere: Alert[], silences: ActiveSilence[], now: number): Promise<Pending | undefined> {
    const firing: Alert[] = [];
    const resolved: Alert[] = [];
    for (const alert of group.alerts.values()) {
      if (alert.state === 'firing') {
        const reason = this.muting.reason(alert, firingEverywhere, silences, now);
        if (reason === undefined) {
          this.suppressed.delete(episodeKey(alert));
          firing.push(alert);
        } else await this.noteSuppressed(alert, reason, now);
        continue;
      }
      // The rule: a resolution goes to exactly the receivers that were sent its firing notice,
      // whether it is silenced, inhibited or in maintenance now or not.
      const receipts = await this.store.alertLog.receipts(alert.id, alert.pendingSince);
      if (receipts.some((r) => r.receiver === group.route.receiver && r.kind === 'firing')) resolved.push(alert);
      else {
        group.alerts.delete(alert.id);
        await this.store.alertLog.append({ alertId: alert.id, at: now, event: 'suppressed', severity: alert.severity, detail: `resolved; no notice to ${group.route.receiver}, which never heard it fire` });
      }
    }
    const changed = firing.some((a) => !group.sent.has(episodeKey(a))) || resolved.length > 0;
    const repeat = firing.length > 0 && group.lastSentAt !== undefined && now - group.lastSentAt >= group.route.repeatInterval;
    if (!changed && !repeat) return undefined;
    return { group, firing, resolved };
  }

  private async noteSuppressed(alert: Alert, reason: string, now: number): Promise<void> {
    const key = episodeKey(alert);
    if (this.suppressed.get(key) === reason) return;
    this.suppressed.set(key, reason);
    await this.store.alertLog.append({ alertId: alert.id, at: now, event: 'suppressed', severity: alert.severity, detail: reason });
    this.logger.info({ alert: alert.id, reason }, 'alert not notified');
  }

  /** Resolved alerts leave their group once decided; an empty group is forgotten. */
  private dropSettled(group: Group): void {
    for (const [id, alert] of group.alerts) if (alert.state === 'resolved') group.alerts.delete(id);
    if (group.alerts.size === 0) this.groups.delete(group.key);
  }

  /**
   * Sends what is due for one receiver within its rate limit. While under the limit each group gets
   * its own message; past it, everything left goes out as one combined message and the receiver
   * cools down; during a cooldown groups are held and go out together when it ends.
   */
  private async sendLimited(receiver: string, pendings: Pending[], now: number): Promise<void> {
    const limit = this.config.receivers.find((r) => r.name === receiver)?.rateLimit;
    if (limit === undefined) return;
    const cooling = this.cooldownUntil.get(receiver) ?? 0;
    if (cooling > now) {
      for (const p of pendings) p.group.nextAt = cooling;
      this.logger.info({ receiver, groups: pendings.length, until: new Date(cooling).toISOString() }, 'receiver cooling down; notifications held');
      return;
    }
    const window = (this.sends.get(receiver) ?? []).filter((at) => at > now - limit.per);
    const room = limit.messages - window.length;
    if (pendings.length <= room) {
      for (const p of pendings) await this.send(receiver, [p], now);
      window.push(...pendings.map(() => now));
    } else {
      if (room > 0) {
        for (const p of pendings.slice(0, room - 1)) await this.send(receiver, [p], now);
        await this.send(receiver, pendings.slice(room - 1), now);
        window.push(...Array.from({ length: room }, () => now));
      }
      const until = Math.max(now + limit.cooldown, (window[0] ?? now) + limit.per);
      this.cooldownUntil.set(receiver, until);
      if (room <= 0) for (const p of pendings) p.group.nextAt = until;
      this.logger.warn({ receiver, groups: pendings.length, limit: limit.messages, per: formatDuration(limit.per) }, 'receiver rate limit reached; notifications combined');
    }
    this.sends.set(receiver, window);
  }

  /** One message carrying the alerts of one or more groups; receipts say who heard which alert. */
  private async send(receiver: string, pendings: Pending[], now: number): Promise<void> {
    const [only] = pendings;
    const combined = pendings.length > 1;
    const key = combined || only === undefined ? `${receiver}:combined:${now}` : only.group.key;
    const firing = pendings.flatMap((p) => p.firing);
    const resolved = pendings.flatMap((p) => p.resolved);
    const kind: NotificationKind = firing.length > 0 ? 'firing' : 'resolved';
    const views = await Promise.all([...firing, ...resolved].map((a) => this.view(a, now)));
    const payload = notificationPayload({ kind, receiver, groupKey: key, groupLabels: combined || only === undefined ? {} : only.group.labels, alerts: views }, now);
    const id = await this.store.outbox.enqueue({ alertId: key, receiver, kind, payload, createdAt: now });
    const receipts: AlertReceipt[] = [...firing, ...resolved].map((a) => ({ alertId: a.id, episode: a.pendingSince, receiver, groupKey: key, kind: a.state === 'firing' ? 'firing' : 'resolved', notificationId: id, at: now }));
    await this.store.alertLog.addReceipts(receipts);
    for (const a of [...firing, ...resolved]) {
      await this.store.alertLog.append({ alertId: a.id, at: now, event: 'notified', severity: a.severity, detail: `${a.state} notice to ${receiver} (notification ${id})` });
    }
    for (const p of pendings) {
      p.group.lastSentAt = now;
      p.group.sent = new Set(p.firing.map(episodeKey));
      this.dropSettled(p.group);
    }
  }

  private async view(alert: Alert, now: number): Promise<AlertView> {
    const [ack] = await this.store.alertLog.acks(alert.id, alert.pendingSince);
    const link =
      this.ackKey !== undefined && this.config.externalUrl !== undefined && alert.state === 'firing'
        ? ackUrl(this.config.externalUrl, signAckToken(this.ackKey, alert.id, alert.pendingSince, now + this.config.ackLinkTtl))
        : null;
    return { alert, acknowledged: ack === undefined ? null : { by: ack.by, at: ack.at }, ackUrl: link };
  }

  /**
   * Escalation: a firing, notified alert nobody acknowledged within a step's `after` (counted from
   * when it fired) goes to the step's receiver, once per step.
   */
  private async escalate(group: Group, firingEverywhere: Alert[], silences: ActiveSilence[], now: number): Promise<void> {
    const steps = group.route.escalation;
    if (steps.length === 0) return;
    for (const [i, step] of steps.entries()) {
      const key = `escalation:${i}:${group.key}`;
      const due: Alert[] = [];
      for (const alert of group.alerts.values()) {
        if (alert.state !== 'firing' || alert.firedAt === null || now < alert.firedAt + step.after) continue;
        if (this.muting.reason(alert, firingEverywhere, silences, now) !== undefined) continue;
        if ((await this.store.alertLog.acks(alert.id, alert.pendingSince)).length > 0) continue;
        const receipts = await this.store.alertLog.receipts(alert.id, alert.pendingSince);
        if (receipts.some((r) => r.groupKey === key)) continue;
        due.push(alert);
      }
      if (due.length === 0) continue;
      const views = await Promise.all(due.map((a) => this.view(a, now)));
      const after = formatDuration(step.after);
      const payload = notificationPayload({ kind: 'firing', receiver: step.receiver, groupKey: key, groupLabels: group.labels, alerts: views, escalation: after }, now);
      const id = await this.store.outbox.enqueue({ alertId: key, receiver: step.receiver, kind: 'firing', payload, createdAt: now });
      await this.store.alertLog.addReceipts(due.map((a) => ({ alertId: a.id, episode: a.pendingSince, receiver: step.receiver, groupKey: key, kind: 'firing', notificationId: id, at: now })));
      for (const a of due) await this.store.alertLog.append({ alertId: a.id, at: now, event: 'escalated', severity: a.severity, detail: `unacknowledged after ${after}: notice to ${step.receiver} (notification ${id})` });
      this.logger.warn({ receiver: step.receiver, alerts: due.map((a) => a.id), after }, 'alerts escalated');
    }
  }

  /** Brings a group's next look forward to its next escalation step. */
  private wakeForEscalation(group: Group, now: number): void {
    if (!this.groups.has(group.key)) return;
    for (const step of group.route.escalation) {
      for (const alert of group.alerts.values()) {
        if (alert.state !== 'firing' || alert.firedAt === null) continue;
        const at = alert.firedAt + step.after;
        if (at > now) group.nextAt = Math.min(group.nextAt, at);
      }
    }
  }

  /** Escalation receivers heard the alert fire outside any group: they hear it resolve at once. */
  private async resolveEscalations(alert: Alert, now: number): Promise<void> {
    const receipts = await this.store.alertLog.receipts(alert.id, alert.pendingSince);
    const told = new Set(receipts.filter((r) => r.kind === 'resolved').map((r) => `${r.receiver}\n${r.groupKey}`));
    const owed = new Map<string, AlertReceipt>();
    for (const r of receipts) if (r.kind === 'firing' && r.groupKey.startsWith('escalation:') && !told.has(`${r.receiver}\n${r.groupKey}`)) owed.set(`${r.receiver}\n${r.groupKey}`, r);
    for (const r of owed.values()) {
      const payload = notificationPayload({ kind: 'resolved', receiver: r.receiver, groupKey: r.groupKey, groupLabels: {}, alerts: [{ alert, acknowledged: null, ackUrl: null }] }, now);
      const id = await this.store.outbox.enqueue({ alertId: r.groupKey, receiver: r.receiver, kind: 'resolved', payload, createdAt: now });
      await this.store.alertLog.addReceipts([{ ...r, kind: 'resolved', notificationId: id, at: now }]);
    }
  }

  /** After a restart: firing alerts go back into their groups; those already notified are not sent again. */
  async restore(alerts: readonly Alert[]): Promise<void> {
    const now = this.clock.now();
    for (const alert of alerts) {
      if (alert.state !== 'firing' || this.root === undefined) continue;
      const receipts = await this.store.alertLog.receipts(alert.id, alert.pendingSince);
      for (const route of matchRoutes(this.root, alert.labels)) {
        const labels = groupLabels(route, alert.labels);
        const key = groupKey(route, labels);
        let group = this.groups.get(key);
        if (group === undefined) {
          group = { key, route, labels, alerts: new Map(), nextAt: now + route.groupWait, lastFlushAt: undefined, lastSentAt: undefined, sent: new Set() };
          this.groups.set(key, group);
        }
        group.alerts.set(alert.id, alert);
        const heard = receipts.filter((r) => r.receiver === route.receiver && r.kind === 'firing');
        if (heard.length > 0) {
          group.sent.add(episodeKey(alert));
          const last = Math.max(...heard.map((r) => r.at));
          group.lastSentAt = Math.max(group.lastSentAt ?? last, last);
          group.lastFlushAt = group.lastSentAt;
        }
      }
    }
  }
}
