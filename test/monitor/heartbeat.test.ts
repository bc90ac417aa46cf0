import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { HeartbeatBook } from '../../src/monitor/heartbeat-book.js';
import { startApp, waitFor } from '../support/helpers.js';

const TOKEN = 'hb-token-0123456789abcdef';

describe('heartbeat book', () => {
  it('accepts only the right token for the right check', () => {
    const book = new HeartbeatBook();
    book.register('cron', TOKEN);
    assert.equal(book.ping('cron', 'wrong-token-0123456789', 1), 'bad-token');
    assert.equal(book.ping('other', TOKEN, 1), 'unknown-check');
    assert.equal(book.last('cron'), undefined);
    assert.equal(book.ping('cron', TOKEN, 5), 'accepted');
    assert.equal(book.last('cron'), 5);
  });
});

describe('heartbeat check (through the app)', () => {
  it('is up while pings arrive, down when they stop, and rejects bad pings with a coded 401', async () => {
    const { consoleUrl, app, log } = await startApp(
      { monitor: { checks: [{ name: 'nightly', type: 'heartbeat', token: '${HB_TOKEN}', grace: '300ms', interval: '50ms', timeout: '40ms' }] } },
      { HB_TOKEN: TOKEN },
    );
    const ping = (check: string, authorization?: string, body?: string) =>
      request(`${consoleUrl}/api/v1/heartbeat/${check}`, {
        method: 'POST',
        headers: { ...(authorization === undefined ? {} : { authorization }), ...(body === undefined ? {} : { 'content-type': 'text/plain' }) },
        body,
      });

    for (const [check, auth] of [['nightly', undefined], ['nightly', 'Bearer wrong-token-0123456789'], ['nightly', TOKEN], ['ghost', `Bearer ${TOKEN}`]] as const) {
      const res = await ping(check, auth);
      assert.equal(res.statusCode, 401, `${check} ${auth}`);
      const body = (await res.body.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'VGL_MONITOR_HEARTBEAT_UNAUTHORIZED');
    }
    const huge = await ping('nightly', `Bearer ${TOKEN}`, 'x'.repeat(100_000));
    assert.equal(huge.statusCode, 413);
    await huge.body.dump();

    const ok = await ping('nightly', `Bearer ${TOKEN}`);
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(await ok.body.json(), { status: 'ok' });
    await waitFor(() => app.monitor.latestResult('nightly')?.detail.startsWith('last ping'), 'an up result after the ping', 3000);
    assert.equal(app.monitor.latestResult('nightly')?.status, 'up');
    const down = await waitFor(() => (app.monitor.latestResult('nightly')?.status === 'down' ? app.monitor.latestResult('nightly') : undefined), 'down after the grace', 3000);
    assert.match(down.detail, /^no ping for \d+s \(grace 300ms\)$/);

    const health = await request(`${consoleUrl}/healthz`);
    assert.equal(health.statusCode, 503);
    await health.body.dump();
    assert.doesNotMatch(log.text, new RegExp(TOKEN), 'the token never reaches the log');
  });

  it('is down when no ping ever arrives within the grace after start', async () => {
    const { app } = await startApp({ monitor: { checks: [{ name: 'silent', type: 'heartbeat', token: TOKEN, grace: '150ms', interval: '50ms', timeout: '40ms' }] } });
    const result = await waitFor(() => (app.monitor.latestResult('silent')?.status === 'down' ? app.monitor.latestResult('silent') : undefined), 'down', 3000);
    assert.equal(result.detail, 'no ping received within 150ms of start');
  });
});
