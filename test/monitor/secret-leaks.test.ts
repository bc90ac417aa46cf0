import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { freePort, startApp, waitFor } from '../support/helpers.js';

const PASSWORD = 'pg-pass-Zq81xw';
const REDIS_PASSWORD = 'redis-pass-Kk27vv';
const URL_SECRET = 'url-secret-Hh55tt';


describe('check credentials never leak', () => {
  it('keeps passwords and URL secrets out of the log, results, health and metrics of failing checks', async () => {
    const port = await freePort();
    const { app, log, consoleUrl } = await startApp(
      {
        log: { level: 'debug' },
        monitor: {
          checks: [
            { name: 'db', type: 'postgres', url: `postgres://monitor:\${PG_PASSWORD}@127.0.0.1:${port}/app`, interval: '100ms', timeout: '90ms' },
            { name: 'cache', type: 'redis', url: `redis://default:\${REDIS_PASSWORD}@127.0.0.1:${port}`, interval: '100ms', timeout: '90ms' },
            { name: 'api', type: 'http', url: `http://probe:${URL_SECRET}@127.0.0.1:${port}/x?token=${URL_SECRET}`, interval: '100ms', timeout: '90ms' },
          ],
        },
      },
      { PG_PASSWORD: PASSWORD, REDIS_PASSWORD },
    );
    await waitFor(() => ['db', 'cache', 'api'].every((c) => app.monitor.latestResult(c)?.status === 'down'), 'three down results');
    const health = await (await request(`${consoleUrl}/healthz`)).body.text();
    const metrics = await (await request(`${consoleUrl}/metrics`)).body.text();
    const stored = JSON.stringify(await app.store.checks.recent('db', 10)) + JSON.stringify(await app.store.checks.recent('api', 10));
    for (const [where, text] of [['log', log.text], ['healthz', health], ['metrics', metrics], ['store', stored]] as const) {
      for (const secret of [PASSWORD, REDIS_PASSWORD, URL_SECRET]) assert.ok(!text.includes(secret), `${secret} in ${where}`);
    }
    assert.match(health, /connection refused \(ECONNREFUSED\)/);
  });
});
