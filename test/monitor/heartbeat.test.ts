import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import type { App } from '../../src/app.js';
import { HeartbeatBook } from '../../src/monitor/heartbeat-book.js';
import type { CheckResult } from '../../src/store/records.js';
import { ManualClock, startApp, waitFor } from '../support/helpers.js';

const TOKEN = 'hb-token-0123456789abcdef';

/** The result of the run that started at `at` on the app's clock: the tests move that clock, so each run is known by its time. */
const runAt = (app: App, check: string, at: number): Promise<CheckResult> =>
  waitFor(() => {
    const result = app.monitor.latestResult(check);
    return result?.at === at && result;
  }, `a run of ${check} at ${new Date(at).toISOString()}`);

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
    // The runs come every 50 ms of real time; the ping times and the grace are read on this clock,
    // which moves only when the test moves it, however late a loaded machine runs them.
    const clock = new ManualClock();
    const { consoleUrl, app, log } = await startApp(
      { monitor: { checks: [{ name: 'nightly', type: 'heartbeat', token: '${HB_TOKEN}', grace: '300ms', interval: '50ms', timeout: '40ms' }] } },
      { HB_TOKEN: TOKEN },
      clock,
    );
    const start = clock.now();
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
    await waitFor(() => app.monitor.latestResult('nightly')?.detail.startsWith('last ping'), 'an up result after the ping');
    assert.equal(app.monitor.latestResult('nightly')?.status, 'up');
    clock.advance(300);
    const atGrace = await runAt(app, 'nightly', start + 300);
    assert.deepEqual([atGrace.status, atGrace.detail], ['up', 'last ping 0s ago'], 'still up at the grace itself');
    clock.advance(1700);
    const down = await runAt(app, 'nightly', start + 2000);
    assert.deepEqual([down.status, down.detail], ['down', 'no ping for 2s (grace 300ms)']);

    const health = await request(`${consoleUrl}/healthz`);
    assert.equal(health.statusCode, 503);
    await health.body.dump();
    assert.doesNotMatch(log.text, new RegExp(TOKEN), 'the token never reaches the log');
  });

  it('is down when no ping ever arrives within the grace after start', async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const { app } = await startApp({ monitor: { checks: [{ name: 'silent', type: 'heartbeat', token: TOKEN, grace: '150ms', interval: '50ms', timeout: '40ms' }] } }, {}, clock);
    clock.advance(150);
    const waiting = await runAt(app, 'silent', start + 150);
    assert.deepEqual([waiting.status, waiting.detail], ['up', 'waiting for the first ping (grace 150ms)']);
    clock.advance(1);
    const down = await runAt(app, 'silent', start + 151);
    assert.deepEqual([down.status, down.detail], ['down', 'no ping received within 150ms of start']);
  });
});
