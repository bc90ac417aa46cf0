import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { AlertingService } from '../../src/alerting/index.js';
import { EventBus } from '../../src/core/bus.js';
import { systemClock } from '../../src/core/clock.js';
import type { Alert } from '../../src/store/records.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { freePort, LogCapture, startServer, tempDir, waitFor } from '../support/helpers.js';
import { testConfig } from './support.js';

describe('receiver secrets through the whole delivery path', () => {
  it('failing deliveries to every receiver type log, store and count errors without any URL token, key or password', async () => {
    const { url: failing } = await startServer((req, res) => {
      req.resume();
      res.statusCode = 500;
      res.end('internal error mentioning nothing');
    });
    const closed = await freePort();
    const secrets = ['SLACKTOKEN123', 'DISCORDTOKEN456', 'PDROUTINGKEY789', 'HOOKBEARER000', 'HOOKQUERY111', 'SMTPPASSWORD222', 'AMBASICPASS333'];
    const config = testConfig({
      alerting: {
        receivers: [
          { name: 'slack', type: 'slack', url: `${failing}/services/${secrets[0]}` },
          { name: 'discord', type: 'discord', url: `http://127.0.0.1:${closed}/api/webhooks/${secrets[1]}` },
          { name: 'pd', type: 'pagerduty', routingKey: secrets[2], url: `${failing}/v2/enqueue` },
          { name: 'hook', type: 'webhook', url: `${failing}/in?token=${secrets[4]}`, headers: { authorization: `Bearer ${secrets[3]}` } },
          { name: 'mail', type: 'email', smtp: { host: '127.0.0.1', port: closed, requireTLS: false, user: 'vigil', password: secrets[5] }, from: 'a@example.com', to: ['b@example.com'] },
          { name: 'am', type: 'alertmanager', url: `http://vigil:${secrets[6]}@127.0.0.1:${closed}/` },
        ],
        route: {
          receiver: 'slack',
          groupWait: 0,
          routes: ['slack', 'discord', 'pd', 'hook', 'mail', 'am'].map((receiver) => ({ matchers: [], receiver, continue: true })),
        },
      },
    });
    const log = new LogCapture();
    const store = openSqliteStore(tempDir());
    const bus = new EventBus(() => undefined);
    const alerting = new AlertingService({ config, store, bus, clock: systemClock, registry: createMetricsRegistry(), logger: pino({ level: 'debug' }, log), outbox: { pollMs: 50, retry: { baseMs: 20, capMs: 50 } } });
    await alerting.start();
    after(async () => {
      await alerting.stop(Date.now() + 2000);
      await store.close();
    });
    const now = Date.now();
    const alert: Alert = { id: 'leak-check', rule: 'leak-check', severity: 'critical', state: 'firing', labels: { alertname: 'leak-check' }, summary: 'x', pendingSince: now, firedAt: now, resolvedAt: null, updatedAt: now };
    bus.emit('alert.changed', alert);
    await alerting.settled();
    const failed = await waitFor(async () => {
      const due = await store.outbox.due(Number.MAX_SAFE_INTEGER, 100);
      return due.length === 6 && due.every((n) => n.attempts >= 2) && due;
    }, 'two failed attempts per receiver', 30_000);
    const attempts = (await Promise.all(failed.map((n) => store.alertLog.attempts(n.id)))).flat();
    assert.ok(attempts.length >= 12);
    const everything = [log.lines.join('\n'), JSON.stringify(failed.map((n) => n.lastError)), JSON.stringify(attempts)].join('\n');
    for (const secret of secrets) assert.ok(!everything.includes(secret), `${secret} leaked`);
    assert.deepEqual(failed.map((n) => n.lastError?.split(':')[0]).sort(), ['alertmanager am', 'discord discord', 'email mail', 'pagerduty pd', 'slack slack', 'webhook hook']);
  });
});
