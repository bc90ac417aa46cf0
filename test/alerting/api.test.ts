import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import type { NotificationPayloadV2 } from '../../src/alerting/index.js';
import type { Alert } from '../../src/store/records.js';
import { startServer, waitFor } from '../support/helpers.js';
import type { BrowserHeaders } from '../support/helpers.js';
import { addUser, errorCode, sessionHeaders, startIdentityApp } from '../identity/support.js';

async function hook() {
  const payloads: NotificationPayloadV2[] = [];
  const { url } = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      payloads.push(JSON.parse(Buffer.concat(chunks).toString()) as NotificationPayloadV2);
      res.end();
    });
  });
  return { url, payloads };
}

describe('alerts admin API and the signed acknowledge link', () => {
  it('acknowledges through the link (GET only confirms), refuses forged and expired links, manages silences and serves the history', async () => {
    const receiver = await hook();
    const { app, clock } = await startIdentityApp({
      alerting: {
        receivers: [{ name: 'ops', type: 'webhook', url: receiver.url }],
        route: { receiver: 'ops', groupWait: 0, groupBy: ['alertname'] },
        externalUrl: 'https://vigil.example.com/',
      },
    });
    const consoleUrl = `http://127.0.0.1:${app.console.address().port}`;
    const now = clock.now();
    const alert: Alert = { id: 'db-down', rule: 'db-down', severity: 'critical', state: 'firing', labels: { alertname: 'db-down' }, summary: 'db is down', pendingSince: now, firedAt: now, resolvedAt: null, updatedAt: now };
    await app.store.alerts.upsert(alert);
    app.bus.emit('alert.changed', alert);
    await app.alerting.settled();
    await waitFor(() => receiver.payloads.length === 1, 'the firing notice');
    const link = receiver.payloads[0]?.alerts[0]?.ackUrl ?? '';
    const path = new URL(link).pathname;
    assert.match(path, /^\/alerts\/ack\/[\w-]+\.[\w-]+$/);

    const shown = await request(`${consoleUrl}${path}`);
    const page = await shown.body.text();
    assert.equal(shown.statusCode, 200);
    assert.match(page, /db-down/);
    assert.match(page, /<form method="post">/);
    assert.deepEqual(await app.store.alertLog.acks('db-down', now), [], 'GET changes nothing');

    const [body, mac] = path.split('/').pop()?.split('.') ?? [];
    const forged = Buffer.from(`other-alert\n${now}\n${now + 86_400_000}`).toString('base64url');
    for (const bad of [`${forged}.${mac}`, `${body}.${'A'.repeat(43)}`, 'garbage']) {
      const res = await request(`${consoleUrl}/alerts/ack/${bad}`, { method: 'POST' });
      assert.equal(res.statusCode, 403, bad);
      assert.match(await res.body.text(), /VGL_ACK_LINK_INVALID/);
    }

    const acked = await request(`${consoleUrl}${path}`, { method: 'POST' });
    assert.equal(acked.statusCode, 200);
    assert.match(await acked.body.text(), /is acknowledged/);
    const [ack] = await app.store.alertLog.acks('db-down', now);
    assert.equal(ack?.via, 'link');
    await waitFor(() => receiver.payloads.length === 2, 'the acknowledged notice');
    assert.equal(receiver.payloads[1]?.status, 'acknowledged');

    clock.advance(25 * 3_600_000);
    const late = await request(`${consoleUrl}${path}`, { method: 'POST' });
    assert.equal(late.statusCode, 403, 'expired after ackLinkTtl');

    // Silences over the API: operators may, viewers may read only, nobody anonymous.
    const operator = await sessionHeaders(app, await addUser(app, 'olga', 'operator', clock.now()), clock.now());
    const viewer = await sessionHeaders(app, await addUser(app, 'victor', 'viewer', clock.now()), clock.now());
    const post = (browser: BrowserHeaders | undefined, payload: unknown) =>
      request(`${consoleUrl}/api/v1/silences`, { method: 'POST', headers: { 'content-type': 'application/json', ...browser }, body: JSON.stringify(payload) });
    const silence = { matchers: ['alertname="db-down"'], duration: '2h', comment: 'db migration' };
    assert.equal((await post(undefined, silence)).statusCode, 401);
    assert.equal((await post(viewer, silence)).statusCode, 403);
    const bad = await post(operator, { ...silence, matchers: [] });
    assert.equal(errorCode(await bad.body.text()), 'VGL_SILENCE_INVALID');
    const unsafe = await post(operator, { ...silence, matchers: ['alertname=~"(a+)+"'] });
    assert.equal(errorCode(await unsafe.body.text()), 'VGL_ALERT_MATCHER');
    const created = await post(operator, silence);
    assert.equal(created.statusCode, 201);
    const { silence: stored } = (await created.body.json()) as { silence: { id: string; author: string; endsAt: number } };
    assert.equal(stored.author, 'olga');
    assert.equal(stored.endsAt, clock.now() + 2 * 3_600_000);
    const listed = (await (await request(`${consoleUrl}/api/v1/silences`, { headers: { ...viewer } })).body.json()) as { silences: { id: string; state: string }[] };
    assert.deepEqual(listed.silences.map((s) => [s.id, s.state]), [[stored.id, 'active']]);
    const expired = await request(`${consoleUrl}/api/v1/silences/${stored.id}`, { method: 'DELETE', headers: { ...operator } });
    assert.equal(expired.statusCode, 200);
    const again = await request(`${consoleUrl}/api/v1/silences/${stored.id}`, { method: 'DELETE', headers: { ...operator } });
    assert.equal(errorCode(await again.body.text()), 'VGL_SILENCE_INVALID');

    // History: events, and the notifications that carried the alert with each delivery attempt.
    const detail = (await (await request(`${consoleUrl}/api/v1/alerts/db-down`, { headers: { ...viewer } })).body.json()) as {
      events: { event: string }[];
      notifications: { kind: string; state: string; deliveryAttempts: { outcome: string }[] }[];
    };
    assert.deepEqual(detail.events.map((e) => e.event).reverse(), ['firing', 'notified', 'acknowledged', 'suppressed'], 'suppressed while the silence held');
    assert.deepEqual(detail.notifications.map((n) => [n.kind, n.state, n.deliveryAttempts.map((a) => a.outcome)]).sort(), [['acknowledged', 'delivered', ['delivered']], ['firing', 'delivered', ['delivered']]]);
    const audited = (await app.store.audit.page(0, 1000)).map((e) => JSON.stringify(e));
    for (const action of ['alerts.ack', 'alerts.silence.create', 'alerts.silence.expire']) assert.ok(audited.some((e) => e.includes(`"${action}"`)), `${action} audited`);
  });
});
