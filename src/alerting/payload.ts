import type { Alert, NotificationKind, Severity } from '../store/records.js';

/** One alert as it appears in a notification. */
export interface PayloadAlert {
  id: string;
  rule: string;
  severity: Severity;
  /** `firing` or `resolved` at the time of the notification. */
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  summary: string;
  /** When the alert went pending. ISO 8601. */
  startsAt: string;
  firedAt: string | null;
  resolvedAt: string | null;
  acknowledged: { by: string; at: string } | null;
  /** A signed link that acknowledges this alert (when `alerting.externalUrl` is set and it fires). */
  ackUrl: string | null;
}

/**
 * Version 2 of the JSON every notification carries: a group of alerts. Fields are only ever added.
 * The webhook receiver gets it as it is; the other notifiers render it in their receiver's format.
 */
export interface NotificationPayloadV2 {
  version: 2;
  /** `firing` while any alert in it fires; `resolved` when all have; `acknowledged`; `digest`. */
  status: NotificationKind;
  receiver: string;
  /** Identifies the group across notifications (PagerDuty's dedup key is derived from it). */
  groupKey: string;
  groupLabels: Record<string, string>;
  /** Labels every alert in the notification shares. */
  commonLabels: Record<string, string>;
  alerts: PayloadAlert[];
  /** Set on an escalation notice: the step's delay, e.g. `15m`. */
  escalation: string | null;
  /** Digest text, for `status: digest`. */
  digest?: { title: string; text: string; sections: { heading: string; lines: string[] }[] };
  /** When Vigil created this notification. Fixed at enqueue time, so every retry sends the same bytes. */
  sentAt: string;
}

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export interface AlertView {
  alert: Alert;
  acknowledged: { by: string; at: number } | null;
  ackUrl: string | null;
}

export function payloadAlert({ alert, acknowledged, ackUrl }: AlertView): PayloadAlert {
  const extra = alert as Alert & { annotations?: Record<string, string> };
  return {
    id: alert.id,
    rule: alert.rule,
    severity: alert.severity,
    status: alert.state === 'resolved' ? 'resolved' : 'firing',
    labels: alert.labels,
    annotations: extra.annotations ?? {},
    summary: alert.summary,
    startsAt: new Date(alert.pendingSince).toISOString(),
    firedAt: iso(alert.firedAt),
    resolvedAt: iso(alert.resolvedAt),
    acknowledged: acknowledged === null ? null : { by: acknowledged.by, at: new Date(acknowledged.at).toISOString() },
    ackUrl: alert.state === 'resolved' ? null : ackUrl,
  };
}

function common(alerts: PayloadAlert[]): Record<string, string> {
  const [first, ...rest] = alerts;
  if (first === undefined) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first.labels)) if (rest.every((a) => a.labels[k] === v)) out[k] = v;
  return out;
}

export interface GroupNotice {
  kind: NotificationKind;
  receiver: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  alerts: AlertView[];
  escalation?: string;
}

/** The exact body stored in the outbox and sent, unchanged, on every attempt. Firing alerts come first. */
export function notificationPayload(notice: GroupNotice, now: number): string {
  const alerts = notice.alerts.map(payloadAlert).sort((a, b) => (a.status === b.status ? 0 : a.status === 'firing' ? -1 : 1));
  const payload: NotificationPayloadV2 = {
    version: 2,
    status: notice.kind,
    receiver: notice.receiver,
    groupKey: notice.groupKey,
    groupLabels: notice.groupLabels,
    commonLabels: common(alerts),
    alerts,
    escalation: notice.escalation ?? null,
    sentAt: new Date(now).toISOString(),
  };
  return JSON.stringify(payload);
}

/** One line per alert, for chat and mail: `[CRITICAL] api-down: check api is down (check=api)`. */
export function alertLine(a: PayloadAlert): string {
  const mark = a.status === 'resolved' ? 'RESOLVED' : a.acknowledged ? `ACK ${a.acknowledged.by}` : a.severity.toUpperCase();
  return `[${mark}] ${a.rule}: ${a.summary}`;
}

/** A one-line title: `FIRING 3 (critical) · check=api` or `RESOLVED 2`. */
export function noticeTitle(p: NotificationPayloadV2): string {
  if (p.status === 'digest') return p.digest?.title ?? 'Vigil daily digest';
  const firing = p.alerts.filter((a) => a.status === 'firing');
  const resolved = p.alerts.length - firing.length;
  const labels = Object.entries(p.groupLabels).map(([k, v]) => `${k}=${v}`).join(' ');
  const head =
    p.status === 'acknowledged' ? `ACKNOWLEDGED ${p.alerts.length}`
    : firing.length > 0 ? `FIRING ${firing.length}${resolved > 0 ? `, RESOLVED ${resolved}` : ''}`
    : `RESOLVED ${resolved}`;
  const worst = firing.some((a) => a.severity === 'critical') ? 'critical' : firing.some((a) => a.severity === 'warning') ? 'warning' : firing.length > 0 ? 'info' : '';
  return [p.escalation !== null ? `ESCALATED (${p.escalation})` : '', head, worst ? `(${worst})` : '', labels ? `· ${labels}` : ''].filter(Boolean).join(' ');
}

/** Plain text body shared by chat and mail notifiers; at most `max` alert lines. */
export function noticeText(p: NotificationPayloadV2, max = 20): string {
  if (p.status === 'digest' && p.digest) return p.digest.text;
  const lines = p.alerts.slice(0, max).map((a) => `${alertLine(a)}${a.ackUrl ? `\n  acknowledge: ${a.ackUrl}` : ''}`);
  if (p.alerts.length > max) lines.push(`… and ${p.alerts.length - max} more`);
  return lines.join('\n');
}
