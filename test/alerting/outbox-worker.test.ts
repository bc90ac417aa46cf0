import assert from 'node:assert/strict';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import { Agent } from 'undici';
import { createNotifier, OutboxWorker, retryDelay } from '../../src/alerting/index.js';
import type { Receiver } from '../../src/alerting/index.js';
import { systemClock } from '../../src/core/clock.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { startServer, tempDir, waitFor } from '../support/helpers.js';
import { quietLogger, testConfig } from './support.js';

const dispatcher = new Agent();
after(() => dispatcher.close());

interface Received {
  body: string;
  headers: IncomingHttpHeaders;
}

/** A receiver that answers `statuses` in turn (then 200) and records every request. */
async function receiver(statuses: number[] = []): Promise<{ server: Server; url: string; port: number; received: Received[]; accepted: Received[] }> {
  const received: Received[] = [];
  const accepted: Received[] = [];
  const { server, url, port } = await startServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = { body: Buffer.concat(chunks).toString(), headers: req.headers };
      received.push(seen);
      res.statusCode = statuses.shift() ?? 200;
      if (res.statusCode < 300) accepted.push(seen);
      res.end();
    });
  });
  return { server, url, port, received, accepted };
}

function setup(url: string, receiverExtra: Record<string, unknown> = {}): { store: Store; worker: OutboxWorker } {
  const store = openSqliteStore(tempDir());
  const config = testConfig({ alerting: { receivers: [{ name: 'hook', type: 'webhook', url, timeout: 2000, headers: { 'x-token': 'abc' }, ...receiverExtra }] } });
  const receivers = new Map<string, Receiver>(config.alerting.receivers.map((c) => [c.name, { config: c, notifier: createNotifier(c, { dispatcher, logger: quietLogger() }) }]));
  const worker = new OutboxWorker(
    { outbox: store.outbox, receivers, clock: systemClock, logger: quietLogger() },
    { pollMs: 50, retry: { baseMs: 20, capMs: 80 } },
  );
  worker.start();
  after(async () => {
    await worker.stop(Date.now() + 1000);
    await store.close();
  });
  return { store, worker };
}

const enqueue = (store: Store, kind: 'firing' | 'resolved' = 'firing', alertId = 'api-down') =>
  store.outbox.enqueue({ alertId, receiver: 'hook', kind, payload: JSON.stringify({ version: 1, status: kind }), createdAt: Date.now() });

describe('outbox worker', () => {
  it('delivers with the receiver headers and an idempotency id', async () => {
    const hook = await receiver();
    const { store, worker } = setup(hook.url);
    const id = await enqueue(store);
    worker.wake();
    const [n] = await waitFor(async () => {
      const list = await store.outbox.list('api-down');
      return list[0]?.state === 'delivered' && list;
    }, 'delivery');
    assert.equal(n?.attempts, 1);
    assert.equal(hook.received.length, 1);
    const { body, headers } = hook.received[0]!;
    assert.deepEqual(JSON.parse(body), { version: 1, status: 'firing' });
    assert.equal(headers['x-token'], 'abc');
    assert.equal(headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(headers['x-vigil-notification-id'], String(id));
    assert.equal(headers['x-vigil-attempt'], '1');
  });

  it('retries a failing receiver with backoff and delivers the same body once it recovers', async () => {
    const hook = await receiver([500, 503, 502]);
    const { store, worker } = setup(hook.url);
    await enqueue(store);
    worker.wake();
    const [n] = await waitFor(async () => {
      const list = await store.outbox.list('api-down');
      return list[0]?.state === 'delivered' && list;
    }, 'delivery after retries');
    assert.equal(n?.attempts, 4);
    assert.equal(n?.lastError, null);
    assert.equal(hook.received.length, 4);
    assert.equal(hook.accepted.length, 1, 'delivered exactly once');
    assert.equal(new Set(hook.received.map((r) => r.body)).size, 1, 'every attempt sends the same bytes');
    assert.deepEqual(hook.received.map((r) => r.headers['x-vigil-attempt']), ['1', '2', '3', '4']);
  });

  it('keeps retrying while the receiver refuses connections and delivers once it listens again', async () => {
    const hook = await receiver();
    await new Promise((resolve) => hook.server.close(resolve));
    const { store, worker } = setup(hook.url);
    await enqueue(store);
    worker.wake();
    const failed = await waitFor(async () => {
      const [n] = await store.outbox.list('api-down');
      return n !== undefined && n.attempts >= 2 && n;
    }, 'two failed attempts');
    assert.equal(failed.state, 'pending');
    assert.equal(failed.lastError, 'webhook hook: connection refused (ECONNREFUSED)');
    await new Promise<void>((resolve) => hook.server.listen(hook.port, '127.0.0.1', resolve));
    await waitFor(async () => (await store.outbox.list('api-down'))[0]?.state === 'delivered', 'delivery after the receiver returned');
    assert.equal(hook.accepted.length, 1);
  });

  it('never lets a resolved notice overtake the firing notice of the same alert', async () => {
    const hook = await receiver([500, 500]);
    const { store, worker } = setup(hook.url);
    await enqueue(store, 'firing');
    await enqueue(store, 'resolved');
    worker.wake();
    await waitFor(async () => (await store.outbox.list('api-down')).every((n) => n.state === 'delivered'), 'both delivered');
    assert.deepEqual(hook.accepted.map((r) => JSON.parse(r.body).status), ['firing', 'resolved']);
  });

  it('reports a receiver that does not answer as timed out', async () => {
    const { url } = await startServer(() => undefined);
    const { store, worker } = setup(url, { timeout: 100 });
    await enqueue(store);
    worker.wake();
    const n = await waitFor(async () => (await store.outbox.list('api-down'))[0]?.lastError ?? undefined, 'a failed attempt');
    assert.equal(n, 'webhook hook: timed out after 100ms');
  });

  it('expires a notification once it is older than maxAge', async () => {
    const hook = await receiver(Array(100).fill(500));
    const { store, worker } = setup(hook.url, { maxAge: 150 });
    await enqueue(store);
    worker.wake();
    const n = await waitFor(async () => {
      const [first] = await store.outbox.list('api-down');
      return first?.state === 'expired' && first;
    }, 'expiry');
    assert.match(n.lastError ?? '', /^not delivered within maxAge 150ms: webhook hook: status 500$/);
    const attempts = hook.received.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(hook.received.length, attempts, 'no attempts after expiry');
  });
});

describe('retry delay', () => {
  it('doubles from the base, stays within [half, all] of the ceiling, and stops at the cap', () => {
    const policy = { baseMs: 1000, capMs: 300_000 };
    assert.equal(retryDelay(1, policy, () => 0), 500);
    assert.equal(retryDelay(1, policy, () => 1), 1000);
    assert.equal(retryDelay(4, policy, () => 1), 8000);
    assert.equal(retryDelay(30, policy, () => 1), 300_000);
    assert.equal(retryDelay(30, policy, () => 0), 150_000);
  });
});
