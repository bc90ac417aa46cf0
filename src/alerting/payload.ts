import type { Alert, NotificationKind, Severity } from '../store/records.js';

/** Version 1 of the JSON body every webhook receives. Fields are only ever added, never changed. */
export interface WebhookPayloadV1 {
  version: 1;
  status: NotificationKind;
  alert: {
    id: string;
    rule: string;
    severity: Severity;
    labels: Record<string, string>;
    summary: string;
    /** When the check was first seen down (the alert went pending). ISO 8601. */
    startsAt: string;
    firedAt: string | null;
    resolvedAt: string | null;
  };
  /** When Vigil created this notification. Fixed at enqueue time, so every retry sends the same bytes. */
  sentAt: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The exact body stored in the outbox and sent, unchanged, on every attempt. */
export function notificationPayload(alert: Alert, status: NotificationKind, now: number): string {
  const payload: WebhookPayloadV1 = {
    version: 1,
    status,
    alert: {
      id: alert.id,
      rule: alert.rule,
      severity: alert.severity,
      labels: alert.labels,
      summary: alert.summary,
      startsAt: new Date(alert.pendingSince).toISOString(),
      firedAt: iso(alert.firedAt),
      resolvedAt: iso(alert.resolvedAt),
    },
    sentAt: new Date(now).toISOString(),
  };
  return JSON.stringify(payload);
}
