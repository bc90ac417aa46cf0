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
  /** The upstream target of the last attempt (scheme, host, port); null when nothing was forwarded. */
  upstream?: string | null;
  /** Last attempt: time until it had a connected socket (pool wait and connect; ~0 on a kept-alive one), ms. */
  connectMs?: number | null;
  /** Last attempt: time to the upstream's response headers, ms. */
  ttfbMs?: number | null;
  /** Last attempt: time until its response ended (or failed), ms. */
  upstreamMs?: number | null;
}

/** `pending`: the run failed but the check's `retries` are not used up yet; not yet down. */
export type CheckStatus = 'up' | 'down' | 'pending';

export interface CheckResult {
  check: string;
  at: number;
  status: CheckStatus;
  latencyMs: number;
  /** Human-readable reason, e.g. `status 503 not in [200]`; never contains secrets. */
  detail: string;
  /** The number the run measured, for checks that measure one (json-metric, disk, tls…). */
  value?: number;
}

/** One snapshot of the host and the Vigil process, kept as monitor history. */
export interface SystemSample {
  at: number;
  /** Busy share of all CPUs since the previous sample (0-1). */
  cpuUsage: number;
  load1: number;
  memoryAvailableBytes: number;
  memoryTotalBytes: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** 99th percentile event-loop delay since the previous sample. */
  eventLoopLagP99Ms: number;
  /** Null where /proc is not available. */
  openFds: number | null;
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
  /** Rendered annotations of the rule (`summary`, `description`, `runbook`…) at this change. */
  annotations?: Record<string, string>;
  /** The value the rule measured at this change (a metric value, an event count); null when it measures none. */
  value?: number | null;
  /** State before this change; null when the alert is new (it was inactive). */
  previousState?: AlertState | null;
  /** Severity before this change; differs from `severity` on a warning ↔ critical step. */
  previousSeverity?: Severity | null;
  /** While firing: since when the condition has been clear (`keepFiringFor` is running); null otherwise. */
  clearedAt?: number | null;
}

/** One run of a rule action (command, webhook, route fallback switch). */
export interface AlertActionRun {
  id: number;
  alertId: string;
  rule: string;
  /** Index of the action in the rule's `actions`. */
  action: number;
  type: 'command' | 'webhook' | 'routeFallback';
  startedAt: number;
  finishedAt: number | null;
  /** `skipped`: the rule's maxRuns per window was used up. */
  outcome: 'running' | 'succeeded' | 'failed' | 'timeout' | 'skipped';
  /** Exit code, HTTP status or what was switched; never secrets. */
  detail: string;
}

export type NotificationKind = 'firing' | 'resolved' | 'acknowledged' | 'digest';
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

/** A silence: alerts matching every matcher are not notified between startsAt and endsAt. */
export interface Silence {
  id: string;
  /** Matcher texts, e.g. `check="db"`, `severity=~"warning|info"`. */
  matchers: string[];
  startsAt: number;
  endsAt: number;
  author: string;
  comment: string;
  createdAt: number;
  /** Set when the silence was ended early (`endsAt` is then that moment too). */
  expiredAt: number | null;
}

/** One line of an alert's history: a state change as published, an acknowledgement, a notice. */
export interface AlertEvent {
  id: number;
  alertId: string;
  at: number;
  /** `pending`, `firing`, `resolved`, `acknowledged`, `notified`, `suppressed`, `escalated`. */
  event: string;
  severity: Severity | null;
  detail: string;
}

/** Which notification carried which alert to which receiver: decides who hears a resolution. */
export interface AlertReceipt {
  alertId: string;
  /** The alert's `pendingSince`: one outage of a recurring alert ID. */
  episode: number;
  receiver: string;
  groupKey: string;
  kind: NotificationKind;
  notificationId: number;
  at: number;
}

export interface AlertAck {
  alertId: string;
  episode: number;
  by: string;
  via: 'cli' | 'api' | 'link';
  comment: string;
  at: number;
}

/** One attempt to deliver one outbox notification. */
export interface DeliveryAttempt {
  notificationId: number;
  receiver: string;
  attempt: number;
  at: number;
  outcome: 'delivered' | 'failed' | 'expired';
  error: string | null;
}

export interface ApiKey {
  id: string;
  name: string;
  /** HMAC-SHA256 of the key's secret part, hex. The secret itself is never stored. */
  hash: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number | null;
  /** When the key stops working; in the future while a rotation's grace period runs. */
  revokedAt: number | null;
  /** Who or which service holds the key, e.g. `team-search` or `billing-worker`. */
  owner?: string | null;
  /** Last successful use, written in batches (so within a few seconds), never per request. */
  lastUsedAt?: number | null;
  lastUsedIp?: string | null;
  /** The key that replaced this one in a rotation. */
  replacedBy?: string | null;
}

/** A console user. The password is stored only as an argon2id PHC string. */
export interface User {
  id: string;
  username: string;
  role: string;
  passwordHash: string;
  disabled: boolean;
  /** Set for the bootstrap owner and after an administrator's reset: the next login must choose a new password. */
  mustChangePassword: boolean;
  createdAt: number;
  updatedAt: number;
}

/** A console session. Only the SHA-256 of its opaque token is stored, so a database copy cannot be replayed. */
export interface Session {
  tokenHash: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  /** The absolute end, fixed at login. */
  expiresAt: number;
  revokedAt: number | null;
  sourceIp: string;
  /** The password was right but the second factor is still owed: only MFA verification is allowed. */
  mfaPending?: boolean;
}

/** A temporary login lock on one subject (`account:<name>`, `ip:<address>`, `device:<id>`). */
export interface LoginLock {
  subject: string;
  lockedUntil: number;
  /** How many times in a row the subject has been locked; each repeat doubles the lock. */
  level: number;
  lockedAt: number;
}

/** Security event severities, lowest first (their rank is their index). */
export const SECURITY_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type SecuritySeverity = (typeof SECURITY_SEVERITIES)[number];

/**
 * Something security-relevant that happened to Vigil itself or to a caller: a failed login, a
 * lock, later WAF blocks and bans. Shared by every capability that detects attacks.
 */
export interface SecurityEvent {
  at: number;
  /** Dotted kind, e.g. `auth.login_failed`, `auth.account_locked`, `auth.ip_locked`. */
  type: string;
  severity: SecuritySeverity;
  sourceIp: string | null;
  /** Who it concerns: a username, `key:<id>`, or null when unknown. */
  identity: string | null;
  correlationId: string | null;
  /** The gateway route name, or `console:<url pattern>` for the admin API; null (or absent) when none applies. */
  route?: string | null;
  /** Extra facts; never secret values. PII in string values is masked before the event is stored. */
  details: Record<string, unknown>;
}

/** A stored security event with its row ID (the pagination cursor). */
export interface StoredSecurityEvent extends SecurityEvent {
  id: number;
  route: string | null;
}

/** Which stored security events to read: every field narrows; newest first. */
export interface SecurityEventQuery {
  type?: string;
  severity?: SecuritySeverity;
  /** This severity or a higher one. */
  minSeverity?: SecuritySeverity;
  sourceIp?: string;
  route?: string;
  /** Inclusive lower bound on `at` (epoch ms). */
  since?: number;
  /** Exclusive upper bound on `at` (epoch ms). */
  until?: number;
  /** Only events with a smaller ID (the previous page's `nextCursor`). */
  before?: number;
  limit: number;
}

/** One refresh token of a login's family. Only its `jti` is stored; the signed token itself never is. */
export interface RefreshToken {
  jti: string;
  /** Every token rotated from one login shares it; a replayed token revokes the whole family. */
  familyId: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  revokedAt: number | null;
}

/** A user's TOTP enrolment. The secret is sealed (AES-256-GCM) with a key that is not in the database. */
export interface MfaEnrolment {
  userId: string;
  secretBox: string;
  /** Null until the first code confirms the authenticator works. */
  enabledAt: number | null;
  /** The last accepted TOTP time step; a code of this step or earlier is a replay. */
  lastStep: number;
}

/** A ban of an address, a network or an identity. Kept after it ends, so a repeat offence bans longer. */
export interface Ban {
  /** `203.0.113.7`, `2001:db8:1:2::/64`, or an identity such as `key:<id>` or a user name. */
  target: string;
  kind: 'ip' | 'identity';
  reason: string;
  /** `manual:<actor>` or `scenario:<name>`. */
  source: string;
  createdAt: number;
  expiresAt: number;
  /** How many bans this target has had (this one included). */
  offences: number;
  removedAt: number | null;
}
