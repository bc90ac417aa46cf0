/** The records every capability shares. One schema each, one table each. */

export interface AccessRecord {
  at: number;
  requestId: string;
  route: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  clientIp: string;
  keyId: string | null;
  errorCode: string | null;
}

export type CheckStatus = 'up' | 'down';

export interface CheckResult {
  check: string;
  at: number;
  status: CheckStatus;
  latencyMs: number;
  /** Human-readable reason, e.g. `status 503 not in [200]`; never contains secrets. */
  detail: string;
}

export type AlertState = 'pending' | 'firing' | 'resolved';
export type Severity = 'info' | 'warning' | 'critical';

export interface Alert {
  /** Stable per rule and subject: the same problem keeps one alert row until it resolves. */
  id: string;
  rule: string;
  severity: Severity;
  state: AlertState;
  labels: Record<string, string>;
  summary: string;
  pendingSince: number;
  firedAt: number | null;
  resolvedAt: number | null;
  updatedAt: number;
}

export type NotificationKind = 'firing' | 'resolved';
export type NotificationState = 'pending' | 'delivered' | 'expired';

export interface Notification {
  id: number;
  alertId: string;
  receiver: string;
  kind: NotificationKind;
  /** The JSON body to deliver, fixed when enqueued so a retry sends exactly the same thing. */
  payload: string;
  state: NotificationState;
  attempts: number;
  createdAt: number;
  nextAttemptAt: number;
  lastError: string | null;
  deliveredAt: number | null;
}

export interface ApiKey {
  id: string;
  name: string;
  /** HMAC-SHA256 of the key's secret part, hex. The secret itself is never stored. */
  hash: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}
