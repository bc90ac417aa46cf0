import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { openIdentity } from '../../src/identity/open.js';
import { parseConfig } from '../../src/config/load.js';
import { startApp, startServer } from '../support/helpers.js';

async function setup() {
  const { url } = await startServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  return startApp({ gateway: { routes: [{ name: 'agents', prefix: '/agents/', upstream: url }] } });
}

describe('gateway records, metrics and key changes', () => {
  it('a key revoked from another process is rejected by the running gateway within a second', async () => {
    const { app, gatewayUrl, dataDir } = await setup();
    const { key, plaintext } = await app.keys.create({ name: 'ci', scopes: [], expiresAt: null, now: Date.now() });
    // Another connection to the same data dir, as `vigil keys revoke` in another process has.
    const other = openIdentity(parseConfig(JSON.stringify({ store: { dataDir } }), 'cli.yaml', {}), {});
    const deadline = Date.now() + 1000;
    let status = 0;
    while (Date.now() < deadline) {
      const res = await request(`${gatewayUrl}/agents/x`, { headers: { authorization: `Bearer ${plaintext}` } });
      status = res.statusCode;
      await res.body.dump();
      if (status === 200) break;
      await sleep(20);
    }
    assert.equal(status, 200, 'a new key from another process is picked up');
    await other.keys.revoke(key.id, Date.now());
    await other.store.close();
    const revokedAt = Date.now();
    while (status !== 401 && Date.now() - revokedAt < 1000) {
      const res = await request(`${gatewayUrl}/agents/x`, { headers: { authorization: `Bearer ${plaintext}` } });
      status = res.statusCode;
      await res.body.dump();
      if (status !== 401) await sleep(20);
    }
    assert.equal(status, 401);
    assert.ok(Date.now() - revokedAt < 1000, `rejected after ${Date.now() - revokedAt} ms`);
  });

  it('counts requests per route and status, logs one access line each and stores access records', async () => {
    const { app, gatewayUrl, consoleUrl, log } = await setup();
    const { plaintext } = await app.keys.create({ name: 'm', scopes: [], expiresAt: null, now: Date.now() });
    await app.keyCache.refresh();
    for (let i = 0; i < 3; i++) {
      const res = await request(`${gatewayUrl}/agents/ok`, { headers: { 'x-api-key': plaintext, 'x-request-id': `ok-${i}` } });
      await res.body.dump();
    }
    const denied = await request(`${gatewayUrl}/agents/denied`, { headers: { 'x-request-id': 'denied-1' } });
    await denied.body.dump();
    const missing = await request(`${gatewayUrl}/nowhere`);
    await missing.body.dump();

    const metrics = await (await request(`${consoleUrl}/metrics`)).body.text();
    assert.match(metrics, /vigil_gateway_requests_total\{route="agents",method="GET",status="200"\} 3/);
    assert.match(metrics, /vigil_gateway_requests_total\{route="agents",method="GET",status="401"\} 1/);
    assert.match(metrics, /vigil_gateway_requests_total\{route="\(none\)",method="GET",status="404"\} 1/);
    assert.match(metrics, /vigil_gateway_request_duration_seconds_count\{route="agents"\} 4/);
    assert.match(metrics, /vigil_process_resident_memory_bytes/);

    const access = log.records().filter((r) => r.msg === 'request');
    assert.equal(access.length, 5);
    const deniedLine = access.find((r) => (r.access as { requestId: string }).requestId === 'denied-1');
    assert.deepEqual(
      { status: (deniedLine?.access as { status: number }).status, code: (deniedLine?.access as { errorCode: string }).errorCode },
      { status: 401, code: 'VGL_AUTH_MISSING' },
    );
    assert.ok(!log.text.includes(plaintext), 'the API key never reaches the log');

    await app.stop();
    const { store } = openIdentity(parseConfig(JSON.stringify({ store: { dataDir: app.loaded.config.store.dataDir } }), 'x', {}), {});
    const stored = await store.access.recent(10);
    await store.close();
    assert.equal(stored.length, 5, 'access records are flushed to the store on shutdown');
    assert.deepEqual(stored.map((r) => r.status).sort(), [200, 200, 200, 401, 404]);
  });
});
