import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { NotificationPayloadV2 } from '../../src/alerting/index.js';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { LogCapture, startServer, tempDir, waitFor } from '../support/helpers.js';

describe('alerting across a restart', () => {
  it('keeps the firing alert and its undelivered notices, delivers them after the restart, and still resolves', async () => {
    let apiStatus = 503;
    const api = await startServer((_req, res) => {
      res.statusCode = apiStatus;
      res.end();
    });
    const payloads: NotificationPayloadV2[] = [];
    const hook = await startServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        payloads.push(JSON.parse(Buffer.concat(chunks).toString()) as NotificationPayloadV2);
        res.end();
      });
    });
    // The receiver is down (connection refused) for the whole life of the first process.
    await new Promise((resolve) => hook.server.close(resolve));

    const dataDir = tempDir();
    const config = JSON.stringify({
      gateway: { listen: { port: 0 } },
      console: { listen: { port: 0 } },
      store: { dataDir },
      monitor: { checks: [{ name: 'api', type: 'http', url: api.url, interval: 100, timeout: 90 }] },
      alerting: {
        receivers: [{ name: 'hook', type: 'webhook', url: `${hook.url}/alerts` }],
        rules: [{ name: 'api-down', kind: 'checkDown', check: 'api', for: 0, receivers: ['hook'] }],
      },
    });
    const startApp = async (): Promise<App> => {
      const app = new App(parseConfig(config, 'test.yaml', {}), { env: {}, logDestination: new LogCapture() });
      await app.start();
      after(() => app.stop());
      return app;
    };

    const first = await startApp();
    const failed = await waitFor(async () => {
      const [n] = await first.store.outbox.due(Number.MAX_SAFE_INTEGER, 10);
      return n !== undefined && n.attempts >= 1 && n;
    }, 'a failed delivery attempt');
    assert.equal(failed.state, 'pending');
    assert.equal(failed.lastError, 'webhook hook: connection refused (ECONNREFUSED)');
    await first.stop();

    await new Promise<void>((resolve) => hook.server.listen(hook.port, '127.0.0.1', resolve));
    const second = await startApp();
    assert.equal(second.alertRules.openAlerts()[0]?.state, 'firing', 'the firing alert is restored');
    await waitFor(async () => (await second.store.outbox.get(failed.id))?.state === 'delivered', 'delivery after the restart');
    assert.equal(payloads.length, 1);
    assert.equal(payloads[0]?.status, 'firing');
    assert.equal(payloads[0]?.alerts[0]?.id, 'api-down');
    // Still down after the restart: the restored alert must not fire (and notify) a second time.
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.deepEqual((await second.store.outbox.list(failed.alertId)).map((n) => n.kind), ['firing']);

    apiStatus = 200;
    await waitFor(() => payloads.length === 2, 'the resolved notice');
    assert.equal(payloads[1]?.status, 'resolved');
    assert.equal(payloads[1]?.alerts[0]?.firedAt, payloads[0]?.alerts[0]?.firedAt);
    assert.equal((await second.store.alerts.get('api-down'))?.state, 'resolved');
  });
});
