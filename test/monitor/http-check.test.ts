import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checks, HttpCheck } from '../../src/monitor/index.js';
import type { CheckOutcome } from '../../src/monitor/index.js';
import { startServer } from '../support/helpers.js';
import { buildCheck } from './support.js';

function httpCheck(url: string, extra: Record<string, unknown> = {}): HttpCheck {
  const check = buildCheck({ type: 'http', url, ...extra });
  assert.ok(check instanceof HttpCheck);
  return check;
}

const run = (check: HttpCheck): Promise<CheckOutcome> => check.run(new AbortController().signal);

describe('http check', () => {
  it('is the registered factory for type http', () => {
    assert.equal(typeof checks.http, 'function');
  });

  it('is up when the status is expected, and records latency', async () => {
    const { url } = await startServer((_req, res) => res.end('ok'));
    const outcome = await run(httpCheck(`${url}/health`));
    assert.equal(outcome.status, 'up');
    assert.equal(outcome.detail, 'status 200');
    assert.ok(outcome.latencyMs > 0 && outcome.latencyMs < 2000, `latency ${outcome.latencyMs}`);
  });

  it('is down with the status and the expected list when the status is unexpected', async () => {
    const { url } = await startServer((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    assert.deepEqual(
      { ...(await run(httpCheck(url))), latencyMs: 0 },
      { status: 'down', latencyMs: 0, detail: 'status 503 not in [200]' },
    );
    assert.equal((await run(httpCheck(url, { expectStatus: [200, 503] }))).status, 'up');
  });

  it('is down with "timed out" when the server accepts and never answers', async () => {
    const { url } = await startServer(() => undefined);
    const started = Date.now();
    const outcome = await run(httpCheck(url, { timeout: 100 }));
    const elapsed = Date.now() - started;
    assert.equal(outcome.status, 'down');
    assert.equal(outcome.detail, 'timed out after 100ms');
    assert.ok(elapsed >= 95 && elapsed < 1000, `took ${elapsed}ms`);
  });

  it('is down with a coded reason when the connection is refused', async () => {
    const { server, url } = await startServer(() => undefined);
    await new Promise((resolve) => server.close(resolve));
    const outcome = await run(httpCheck(url));
    assert.equal(outcome.status, 'down');
    assert.equal(outcome.detail, 'connection refused (ECONNREFUSED)');
  });

  it('sends URL credentials as Basic auth and never puts them or the query in the detail', async () => {
    let authorization: string | undefined;
    const { port } = await startServer((req, res) => {
      authorization = req.headers.authorization;
      res.statusCode = 500;
      res.end('secret-body');
    });
    const outcome = await run(httpCheck(`http://probe:hunter22@127.0.0.1:${port}/health?token=tok-12345`));
    assert.equal(authorization, `Basic ${Buffer.from('probe:hunter22').toString('base64')}`);
    assert.equal(outcome.detail, 'status 500 not in [200]');
    const closed = await startServer(() => undefined);
    await new Promise((resolve) => closed.server.close(resolve));
    const refused = await run(httpCheck(`http://probe:hunter22@127.0.0.1:${closed.port}/x?token=tok-12345`));
    assert.equal(refused.detail, 'connection refused (ECONNREFUSED)');
    for (const text of [outcome.detail, refused.detail]) {
      assert.doesNotMatch(text, /hunter22|tok-12345|probe/);
    }
  });

  it('settles at once when its signal aborts (shutdown)', async () => {
    const { url } = await startServer(() => undefined);
    const controller = new AbortController();
    const pending = httpCheck(url, { timeout: 1000 }).run(controller.signal);
    setTimeout(() => controller.abort(), 20);
    const outcome = await pending;
    assert.deepEqual([outcome.status, outcome.detail], ['down', 'cancelled']);
  });
});
