import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { Agent } from 'undici';
import { createNotifier, notificationPayload, pagerDutyDedupKey } from '../../src/alerting/index.js';
import type { Notifier } from '../../src/alerting/index.js';
import type { ReceiverConfig } from '../../src/config/schema.js';
import type { Alert } from '../../src/store/records.js';
import { freePort, LogCapture, startServer } from '../support/helpers.js';
import { quietLogger, testConfig } from './support.js';

const dispatcher = new Agent({ keepAliveTimeout: 1000 });
after(() => dispatcher.close());

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function receiver(status = 200) {
  const seen: Seen[] = [];
  const { url, server } = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.statusCode = status;
      res.end();
    });
  });
  after(() => new Promise((resolve) => server.close(resolve)));
  return { url, seen };
}

function notifier(config: Record<string, unknown>, logger = quietLogger()): Notifier {
  const parsed = testConfig({ alerting: { receivers: [config] } }).alerting.receivers[0] as ReceiverConfig;
  return createNotifier(parsed, { dispatcher, logger });
}

const t0 = Date.parse('2025-03-01T10:00:00Z');
const alert = (id: string, state: Alert['state'], severity: Alert['severity'] = 'critical'): Alert => ({
  id,
  rule: id,
  severity,
  state,
  labels: { alertname: id, service: 'api' },
  summary: `${id} <is> failing & "bad"`,
  pendingSince: t0,
  firedAt: t0 + 60_000,
  resolvedAt: state === 'resolved' ? t0 + 120_000 : null,
  updatedAt: t0,
});

const group = (kind: 'firing' | 'resolved' | 'acknowledged', receiverName: string) =>
  notificationPayload(
    {
      kind,
      receiver: receiverName,
      groupKey: '0:ops:[["service","api"]]',
      groupLabels: { service: 'api' },
      alerts: [
        { alert: alert('api-down', kind === 'resolved' ? 'resolved' : 'firing'), acknowledged: kind === 'acknowledged' ? { by: 'alice', at: t0 } : null, ackUrl: 'https://vigil.example/alerts/ack/x.y' },
        { alert: alert('api-slow', 'resolved', 'warning'), acknowledged: null, ackUrl: null },
      ],
    },
    t0 + 60_000,
  );

const signal = new AbortController().signal;

describe('notifiers against real receivers on loopback', () => {
  it('webhook: the JSON payload, custom headers and an HMAC-SHA256 signature over timestamp and body', async () => {
    const r = await receiver();
    const secret = 'webhook-signing-secret-123';
    const n = notifier({ name: 'hook', type: 'webhook', url: `${r.url}/in`, headers: { 'x-team': 'sre' }, secret });
    const payload = group('firing', 'hook');
    await n.send({ notificationId: 7, attempt: 2, payload }, signal);
    const [got] = r.seen;
    assert.equal(got?.body, payload);
    assert.equal(got?.headers['x-team'], 'sre');
    assert.equal(got?.headers['x-vigil-notification-id'], '7');
    assert.equal(got?.headers['x-vigil-attempt'], '2');
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(got?.headers['x-vigil-signature']));
    assert.ok(match, 'signature header present');
    const expected = createHmac('sha256', secret).update(`${match[1]}.${got?.body}`).digest('hex');
    assert.equal(match[2], expected);
    assert.ok(Math.abs(Number(match[1]) - Date.now() / 1000) < 60, 'timestamp is the send time');
  });

  it('slack: incoming-webhook text and blocks', async () => {
    const r = await receiver();
    await notifier({ name: 'chat', type: 'slack', url: `${r.url}/services/T000/B000/XXXX`, channel: '#ops' }).send({ notificationId: 1, attempt: 1, payload: group('firing', 'chat') }, signal);
    const body = JSON.parse(r.seen[0]?.body ?? '{}') as { channel: string; text: string; blocks: { type: string }[] };
    assert.equal(body.channel, '#ops');
    assert.match(body.text, /^FIRING 1, RESOLVED 1 \(critical\) · service=api\n\[CRITICAL\] api-down/);
    assert.match(body.text, /acknowledge: https:\/\/vigil\.example\/alerts\/ack\/x\.y/);
    assert.deepEqual(body.blocks.map((b) => b.type), ['header', 'section']);
  });

  it('discord: content plus an embed coloured by severity, mentions disabled', async () => {
    const r = await receiver(204);
    await notifier({ name: 'disc', type: 'discord', url: `${r.url}/api/webhooks/1/abc` }).send({ notificationId: 1, attempt: 1, payload: group('resolved', 'disc') }, signal);
    const body = JSON.parse(r.seen[0]?.body ?? '{}') as { content: string; embeds: { title: string; color: number }[]; allowed_mentions: unknown };
    assert.equal(body.content, 'RESOLVED 2 · service=api');
    assert.equal(body.embeds[0]?.color, 0x12b76a);
    assert.deepEqual(body.allowed_mentions, { parse: [] });
  });

  it('pagerduty: trigger, acknowledge and resolve share one dedup key per group', async () => {
    const r = await receiver(202);
    const n = notifier({ name: 'pd', type: 'pagerduty', routingKey: 'R0UTINGKEY', url: `${r.url}/v2/enqueue` });
    for (const kind of ['firing', 'acknowledged', 'resolved'] as const) await n.send({ notificationId: 1, attempt: 1, payload: group(kind, 'pd') }, signal);
    const events = r.seen.map((s) => JSON.parse(s.body) as { routing_key: string; event_action: string; dedup_key: string; payload?: { severity: string; summary: string; source: string } });
    assert.deepEqual(events.map((e) => e.event_action), ['trigger', 'acknowledge', 'resolve']);
    assert.ok(events.every((e) => e.dedup_key === pagerDutyDedupKey('pd', '0:ops:[["service","api"]]') && e.routing_key === 'R0UTINGKEY'));
    assert.equal(events[0]?.payload?.severity, 'critical');
    assert.equal(events[0]?.payload?.source, 'vigil');
    assert.equal(r.seen[0]?.path, '/v2/enqueue');
  });

  it('alertmanager: POST /api/v2/alerts with alertname, annotations and endsAt for resolved alerts', async () => {
    const r = await receiver();
    const n = notifier({ name: 'am', type: 'alertmanager', url: `${r.url}/` });
    await n.send({ notificationId: 1, attempt: 1, payload: group('firing', 'am') }, signal);
    await n.send({ notificationId: 2, attempt: 1, payload: group('acknowledged', 'am') }, signal);
    assert.equal(r.seen.length, 1, 'Alertmanager has no acknowledgements');
    assert.equal(r.seen[0]?.path, '/api/v2/alerts');
    const alerts = JSON.parse(r.seen[0]?.body ?? '[]') as { labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt?: string }[];
    assert.deepEqual(alerts[0]?.labels, { alertname: 'api-down', service: 'api', severity: 'critical' });
    assert.equal(alerts[0]?.endsAt, undefined);
    assert.equal(alerts[1]?.endsAt, new Date(t0 + 120_000).toISOString());
    assert.equal(alerts[0]?.annotations.summary, 'api-down <is> failing & "bad"');
  });

  it('log: one line per notification, warn while firing', async () => {
    const log = new LogCapture();
    const n = notifier({ name: 'log', type: 'log' }, pino({ level: 'info' }, log));
    await n.send({ notificationId: 3, attempt: 1, payload: group('firing', 'log') }, signal);
    const line = log.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.receiver === 'log');
    assert.equal(line?.level, 40);
    assert.deepEqual(line?.alerts, ['[CRITICAL] api-down: api-down <is> failing & "bad"', '[RESOLVED] api-slow: api-slow <is> failing & "bad"']);
  });

  it('email: delivered over SMTP to a real smtp-server with text and escaped HTML parts, authenticated', async () => {
    const received: string[] = [];
    const auths: string[] = [];
    const server = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      onAuth(auth, _session, cb) {
        auths.push(`${auth.username}:${auth.password}`);
        cb(null, { user: auth.username });
      },
      onData(stream, _session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          received.push(Buffer.concat(chunks).toString());
          cb();
        });
      },
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const n = notifier({
      name: 'mail',
      type: 'email',
      smtp: { host: '127.0.0.1', port, requireTLS: false, user: 'vigil', password: 'smtp-pass-word' },
      from: 'vigil@example.com',
      to: ['oncall@example.com'],
    });
    after(() => n.close?.());
    await n.send({ notificationId: 9, attempt: 1, payload: group('firing', 'mail') }, signal);
    assert.deepEqual(auths, ['vigil:smtp-pass-word']);
    const message = received[0] ?? '';
    assert.match(message, /Subject: =\?UTF-8\?Q\?=5Bvigil=5D_FIRING_1=2C_RESOLVED_1_=28cr/, 'the subject, encoded for its middle dot');
    assert.match(message, /Content-Type: text\/plain/);
    assert.match(message, /Content-Type: text\/html/);
    assert.match(message, /X-Vigil-Notification-ID: 9/i);
    assert.match(message.replace(/=\r?\n/g, ''), /api-down &#60;is&#62; failing &#38; &#34;bad&#34;/, 'HTML escapes alert text');
  });
});

describe('secrets in receiver configurations never reach errors or logs', () => {
  it('webhook tokens, Slack URLs, PagerDuty keys and SMTP passwords stay out of failure messages', async () => {
    const down = await receiver(500);
    const closedPort = await freePort();
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'hook', type: 'webhook', url: `http://user:HOOKPASS@127.0.0.1:${closedPort}/x?token=HOOKTOKEN`, headers: { authorization: 'Bearer HOOKHEADER' } }, 'HOOK'],
      [{ name: 'chat', type: 'slack', url: `${down.url}/services/SLACKSECRET` }, 'SLACKSECRET'],
      [{ name: 'disc', type: 'discord', url: `http://127.0.0.1:${closedPort}/api/webhooks/DISCORDSECRET` }, 'DISCORDSECRET'],
      [{ name: 'pd', type: 'pagerduty', routingKey: 'PDROUTINGKEY', url: `${down.url}/v2/enqueue` }, 'PDROUTINGKEY'],
      [{ name: 'mail', type: 'email', smtp: { host: '127.0.0.1', port: closedPort, requireTLS: false, user: 'u', password: 'SMTPPASSWORD' }, from: 'a@b.c', to: ['d@e.f'], timeout: '2s' }, 'SMTPPASSWORD'],
      [{ name: 'am', type: 'alertmanager', url: `http://am:AMPASS@127.0.0.1:${closedPort}/` }, 'AMPASS'],
    ];
    for (const [config, secret] of cases) {
      const n = notifier(config);
      const err = await n.send({ notificationId: 1, attempt: 1, payload: group('firing', String(config.name)) }, signal).then(
        () => assert.fail(`${String(config.name)} should fail`),
        (e: unknown) => e as Error & { code: string; cause?: unknown },
      );
      await n.close?.();
      assert.equal(err.code, 'VGL_NOTIFY_FAILED');
      assert.ok(!JSON.stringify({ message: err.message, stack: err.stack, cause: String(err.cause) }).includes(secret), `${String(config.name)}: ${err.message}`);
      assert.ok(err.message.startsWith(`${String(config.type)} ${String(config.name)}: `), err.message);
    }
  });
});
