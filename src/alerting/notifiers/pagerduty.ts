import { createHash } from 'node:crypto';
import type { ReceiverConfig } from '../../config/schema.js';
import type { Delivery, Notifier, NotifierDeps, NotifierFactory } from '../notifier.js';
import type { NotificationPayloadV2 } from '../payload.js';
import { noticeTitle } from '../payload.js';
import { postJson } from './http.js';

type PagerDutyConfig = Extract<ReceiverConfig, { type: 'pagerduty' }>;

/** One PagerDuty incident per alert group: the dedup key is derived from the receiver and group key. */
export function pagerDutyDedupKey(receiver: string, groupKey: string): string {
  return `vigil-${createHash('sha256').update(`${receiver}\n${groupKey}`).digest('hex').slice(0, 40)}`;
}

/** The Events API v2 event for a notification: trigger while any alert fires, acknowledge, resolve. */
export function pagerDutyEvent(p: NotificationPayloadV2, routingKey: string): Record<string, unknown> {
  const dedupKey = pagerDutyDedupKey(p.receiver, p.groupKey);
  const action = p.status === 'acknowledged' ? 'acknowledge' : p.status === 'resolved' ? 'resolve' : 'trigger';
  if (action !== 'trigger') return { routing_key: routingKey, event_action: action, dedup_key: dedupKey };
  const firing = p.alerts.filter((a) => a.status === 'firing');
  const severity = firing.some((a) => a.severity === 'critical') ? 'critical' : firing.some((a) => a.severity === 'warning') ? 'warning' : 'info';
  const links = p.alerts.flatMap((a) => (a.ackUrl === null ? [] : [{ href: a.ackUrl, text: `Acknowledge ${a.rule}` }])).slice(0, 10);
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: `${noticeTitle(p)}: ${firing.map((a) => a.summary).join('; ')}`.slice(0, 1024),
      source: 'vigil',
      severity,
      timestamp: p.sentAt,
      component: p.commonLabels.check ?? p.commonLabels.service,
      group: p.commonLabels.rule,
      custom_details: { groupLabels: p.groupLabels, alerts: p.alerts.map((a) => ({ rule: a.rule, status: a.status, severity: a.severity, summary: a.summary, labels: a.labels })) },
    },
    ...(links.length > 0 ? { links } : {}),
  };
}

export class PagerDutyNotifier implements Notifier {
  readonly receiver: string;

  constructor(private readonly config: PagerDutyConfig, private readonly deps: NotifierDeps) {
    this.receiver = config.name;
  }

  async send(delivery: Delivery, signal: AbortSignal): Promise<void> {
    const payload = JSON.parse(delivery.payload) as NotificationPayloadV2;
    // A digest is not an incident.
    if (payload.status === 'digest') return;
    await postJson({
      what: `pagerduty ${this.receiver}`,
      url: this.config.url,
      headers: {},
      body: JSON.stringify(pagerDutyEvent(payload, this.config.routingKey)),
      timeoutMs: this.config.timeout,
      dispatcher: this.deps.dispatcher,
      signal,
    });
  }
}

export const createPagerDutyNotifier: NotifierFactory<'pagerduty'> = (config, deps) => new PagerDutyNotifier(config, deps);
