import { z } from 'zod';
import { CronExpressionParser } from 'cron-parser';
import { matcherProblem } from '../alerting/matchers.js';
import { duration, httpUrl, name } from './schema-parts.js';

/**
 * The delivery half of `alerting`: receivers, the routing tree, inhibition, maintenance windows and
 * the daily digest. Rules live in schema.ts; an alert reaches receivers only through `route`.
 */

const matcher = z
  .string()
  .max(300)
  .superRefine((text, ctx) => {
    const problem = matcherProblem(text);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

const matchers = (what: string) =>
  z.array(matcher).max(32).default([]).describe(`${what}: label matchers like \`severity="critical"\`, \`check!="db"\`, \`service=~"api|web"\`, \`env!~"dev.*"\`; all must match.`);

const cron = z.string().superRefine((text, ctx) => {
  try {
    CronExpressionParser.parse(text, { tz: 'UTC' });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `'${text}' is not a cron expression: ${(err as Error).message}` });
  }
});

const rateLimit = z
  .strictObject({
    messages: z.number().int().min(1).max(10_000).default(20).describe('Most notifications sent to this receiver within `per`.'),
    per: duration.prefault('1m').describe('The window `messages` is counted over.'),
    cooldown: duration.prefault('1m').describe('Once the limit is hit, every notification due for this receiver is held this long and then sent together as one grouped message.'),
  })
  .prefault({})
  .describe('Per-receiver rate limit: a storm becomes a few grouped messages, not hundreds.');

const common = {
  name: name('receiver name').describe('Referenced by routes, escalation steps and the digest.'),
  timeout: duration.prefault('10s').describe('Time allowed for one delivery attempt.'),
  maxAge: duration.prefault('24h').describe('Retries stop when a notification is older than this.'),
  rateLimit,
};

const webhookReceiver = z.strictObject({
  ...common,
  type: z.literal('webhook').describe('JSON POST of the notification (payload version 2).'),
  url: httpUrl.describe('URL that receives a JSON POST per notification. Never logged.'),
  headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers, e.g. an authorization token. Never logged.'),
  secret: z.string().min(16).optional().describe('HMAC-SHA256 key: each request carries `X-Vigil-Signature: t=<unix seconds>,v1=<hex HMAC of "t.body">`.'),
});

const slackReceiver = z.strictObject({
  ...common,
  type: z.literal('slack').describe('Slack incoming webhook (`text` plus `blocks`).'),
  url: httpUrl.describe('The incoming-webhook URL (it is a secret; never logged).'),
  channel: z.string().max(80).optional().describe('Channel override, for legacy webhooks that allow it.'),
  username: z.string().max(80).optional().describe('Display name override.'),
});

const discordReceiver = z.strictObject({
  ...common,
  type: z.literal('discord').describe('Discord webhook (`content` plus `embeds`).'),
  url: httpUrl.describe('The webhook URL (it is a secret; never logged).'),
  username: z.string().max(80).optional().describe('Display name override.'),
});

const emailReceiver = z.strictObject({
  ...common,
  type: z.literal('email').describe('Email over SMTP, text and HTML parts.'),
  smtp: z
    .strictObject({
      host: z.string().min(1).describe('SMTP server host.'),
      port: z.number().int().min(1).max(65535).default(587).describe('SMTP port.'),
      secure: z.boolean().default(false).describe('TLS from the first byte (port 465); otherwise STARTTLS.'),
      requireTLS: z.boolean().default(true).describe('Refuse to send unless STARTTLS succeeds. Turn off only for a loopback relay.'),
      user: z.string().optional().describe('SMTP user.'),
      password: z.string().optional().describe('SMTP password, e.g. `${secret:SMTP_PASSWORD}`. Never logged.'),
    })
    .describe('The SMTP server.'),
  from: z.string().min(3).max(200).describe('Sender address.'),
  to: z.array(z.string().min(3).max(200)).min(1).max(50).describe('Recipient addresses.'),
  subjectPrefix: z.string().max(60).default('[vigil]').describe('Put before every subject.'),
});

const pagerdutyReceiver = z.strictObject({
  ...common,
  type: z.literal('pagerduty').describe('PagerDuty Events API v2: trigger, acknowledge and resolve with one dedup key per alert group.'),
  routingKey: z.string().min(1).describe('The integration (routing) key. Never logged.'),
  url: httpUrl.default('https://events.pagerduty.com/v2/enqueue').describe('Events API endpoint.'),
});

const alertmanagerReceiver = z.strictObject({
  ...common,
  type: z.literal('alertmanager').describe('Forwards alerts to an Alertmanager (`POST <url>/api/v2/alerts`).'),
  url: httpUrl.describe('Alertmanager base URL, e.g. http://alertmanager:9093.'),
  headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers. Never logged.'),
});

const logReceiver = z.strictObject({
  ...common,
  type: z.literal('log').describe("Writes each notification to Vigil's log at `warn` (firing) or `info`."),
});

export const receiverSchema = z.discriminatedUnion('type', [webhookReceiver, slackReceiver, discordReceiver, emailReceiver, pagerdutyReceiver, alertmanagerReceiver, logReceiver]);

const escalationStep = z.strictObject({
  after: duration.describe('How long after the alert fired, unacknowledged, this step notifies.'),
  receiver: name('receiver name').describe('Receiver notified at this step.'),
});

/** Route fields; children inherit every unset one from their parent. Depth is bounded so the reference stays flat. */
const routeFields = {
  matchers: matchers('Alerts this route takes'),
  receiver: name('receiver name').optional().describe('Receiver of the alerts this route takes; inherited when unset.'),
  continue: z.boolean().default(false).describe('After matching, go on to the next sibling route too.'),
  groupBy: z.array(z.string().min(1).max(100)).max(20).optional().describe('Labels that split alerts into groups (one notification per group); `["..."]` groups by every label. Inherited; root default `[]` (one group).'),
  groupWait: duration.optional().describe('How long a new group waits for more alerts before its first notification. Inherited; root default 30s.'),
  groupInterval: duration.optional().describe('How long a group waits before notifying about changes (new or resolved alerts). Inherited; root default 5m.'),
  repeatInterval: duration.optional().describe('How long before an unchanged, still-firing group is notified again. Inherited; root default 4h.'),
  escalation: z.array(escalationStep).max(10).optional().describe('Steps for firing alerts nobody acknowledged. Inherited.'),
};

const leafRoute = z.strictObject(routeFields);
const route3 = z.strictObject({ ...routeFields, routes: z.array(leafRoute).default([]).describe('Child routes, tried in order.') });
const route2 = z.strictObject({ ...routeFields, routes: z.array(route3).default([]).describe('Child routes, tried in order.') });
const route1 = z.strictObject({ ...routeFields, routes: z.array(route2).default([]).describe('Child routes, tried in order.') });
const rootRoute = z.strictObject({
  ...routeFields,
  receiver: name('receiver name').describe('Receiver of every alert no child route takes.'),
  groupBy: z.array(z.string().min(1).max(100)).max(20).default([]).describe('Labels that split alerts into groups (one notification per group); `["..."]` groups by every label.'),
  groupWait: duration.prefault('30s').describe('How long a new group waits for more alerts before its first notification.'),
  groupInterval: duration.prefault('5m').describe('How long a group waits before notifying about changes (new or resolved alerts).'),
  repeatInterval: duration.prefault('4h').describe('How long before an unchanged, still-firing group is notified again.'),
  routes: z.array(route1).default([]).describe('Child routes, tried in order; the first match wins unless it sets `continue`. At most four levels.'),
});

const inhibitRule = z.strictObject({
  source: matchers('Alerts that inhibit'),
  target: matchers('Alerts that are inhibited'),
  equal: z.array(z.string().min(1).max(100)).max(20).default([]).describe('Labels that must have the same value in source and target.'),
});

const maintenanceWindow = z.strictObject({
  name: name('maintenance window name').describe('Shown in logs and the history.'),
  matchers: matchers('Alerts muted during the window (none: every alert)'),
  start: z.iso.datetime({ offset: true }).optional().describe('One-off window: start (ISO 8601).'),
  end: z.iso.datetime({ offset: true }).optional().describe('One-off window: end (ISO 8601).'),
  cron: cron.optional().describe('Recurring window: when it opens, as a cron expression (5 or 6 fields, UTC unless `timezone`).'),
  duration: duration.optional().describe('Recurring window: how long it stays open.'),
  timezone: z.string().min(1).max(64).default('UTC').describe('Time zone of `cron`.'),
});

export const alertingDelivery = {
  receivers: z.array(receiverSchema).default([]).describe('Where notifications go.'),
  route: rootRoute.optional().describe('The routing tree. Without it, each rule notifies its own `receivers` at once (no grouping wait).'),
  inhibit: z.array(inhibitRule).max(100).default([]).describe('While a source alert fires, matching target alerts are not notified.'),
  maintenance: z.array(maintenanceWindow).max(100).default([]).describe('Windows during which matching alerts are not notified.'),
  externalUrl: httpUrl.optional().describe('Console base URL as seen by people reading notifications; enables signed acknowledge links.'),
  ackLinkTtl: duration.prefault('24h').describe('How long a signed acknowledge link stays valid.'),
  digest: z
    .strictObject({
      receiver: name('receiver name').describe('Receiver of the digest.'),
      cron: cron.default('0 8 * * *').describe('When the digest is sent (cron, UTC unless `timezone`).'),
      timezone: z.string().min(1).max(64).default('UTC').describe('Time zone of `cron`.'),
    })
    .optional()
    .describe('A daily digest: alerts, uptime, security events and spend over the last 24h.'),
};

type Issue = (path: (string | number)[], message: string) => void;

/** Cross-field checks: every receiver a route, step or digest names exists; windows are complete. */
export function checkAlertingDelivery(alerting: {
  receivers: { name: string }[];
  route?: RouteNodeConfig | undefined;
  maintenance: z.output<typeof maintenanceWindow>[];
  digest?: { receiver: string } | undefined;
}, issue: Issue): void {
  const known = new Set(alerting.receivers.map((r) => r.name));
  const need = (receiver: string | undefined, path: (string | number)[]) => {
    if (receiver !== undefined && !known.has(receiver)) issue(path, `no receiver named '${receiver}' in alerting.receivers`);
  };
  const walk = (node: RouteNodeConfig, path: (string | number)[]) => {
    need(node.receiver, [...path, 'receiver']);
    node.escalation?.forEach((step, i) => need(step.receiver, [...path, 'escalation', i, 'receiver']));
    node.routes?.forEach((child, i) => walk(child, [...path, 'routes', i]));
  };
  if (alerting.route) walk(alerting.route, ['alerting', 'route']);
  if (alerting.digest) need(alerting.digest.receiver, ['alerting', 'digest', 'receiver']);
  alerting.maintenance.forEach((w, i) => {
    const path = ['alerting', 'maintenance', i];
    const oneOff = w.start !== undefined || w.end !== undefined;
    const recurring = w.cron !== undefined || w.duration !== undefined;
    if (oneOff === recurring) issue(path, 'set either start and end (one-off) or cron and duration (recurring)');
    else if (oneOff && (w.start === undefined || w.end === undefined)) issue(path, 'a one-off window needs both start and end');
    else if (oneOff && Date.parse(w.end as string) <= Date.parse(w.start as string)) issue([...path, 'end'], 'end must be after start');
    else if (recurring && (w.cron === undefined || w.duration === undefined || w.duration === 0)) issue(path, 'a recurring window needs cron and a non-zero duration');
  });
}

export interface RouteNodeConfig {
  matchers: string[];
  receiver?: string | undefined;
  continue: boolean;
  groupBy?: string[] | undefined;
  groupWait?: number | undefined;
  groupInterval?: number | undefined;
  repeatInterval?: number | undefined;
  escalation?: { after: number; receiver: string }[] | undefined;
  routes?: RouteNodeConfig[];
}

export type ReceiverConfig = z.output<typeof receiverSchema>;
export type MaintenanceWindowConfig = z.output<typeof maintenanceWindow>;
export type InhibitRuleConfig = z.output<typeof inhibitRule>;
