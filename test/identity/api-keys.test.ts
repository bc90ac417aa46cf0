import assert from 'node:assert/strict';
import { statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { runVigil } from '../support/cli.js';
import { startServer, tempDir } from '../support/helpers.js';
import type { BrowserHeaders } from '../support/helpers.js';
import { addUser, errorCode, sessionHeaders, startIdentityApp } from './support.js';

async function gatewayApp() {
  const upstream = await startServer((_req, res) => res.end('ok'));
  const ctx = await startIdentityApp({ gateway: { listen: { port: 0 }, routes: [{ name: 'agents', prefix: '/agents/', upstream: upstream.url, scopes: ['agents:invoke'] }] } });
  const gatewayUrl = `http://127.0.0.1:${ctx.app.gateway.address().port}`;
  const call = async (key: string): Promise<number> => {
    const res = await request(`${gatewayUrl}/agents/run`, { headers: { authorization: `Bearer ${key}` } });
    await res.body.dump();
    return res.statusCode;
  };
  return { ...ctx, call };
}

describe('API key rotation', () => {
  it('keeps old and new keys valid during the grace period and rejects the old one after it', async () => {
    const { app, clock, call } = await gatewayApp();
    const old = await app.keys.create({ name: 'svc', scopes: ['agents:invoke'], expiresAt: null, owner: 'team-a', now: clock.now() });
    await app.keyCache.refresh();
    assert.equal(await call(old.plaintext), 200);
    const rotated = await app.keys.rotate(old.key.id, 60_000, clock.now());
    await app.keyCache.refresh();
    assert.deepEqual([rotated.key.name, rotated.key.scopes, rotated.key.owner], ['svc', ['agents:invoke'], 'team-a']);
    assert.equal(await call(old.plaintext), 200, 'old key during grace');
    assert.equal(await call(rotated.plaintext), 200, 'new key');
    clock.advance(60_001);
    assert.equal(await call(old.plaintext), 401, 'old key after grace, without any further write');
    assert.equal(await call(rotated.plaintext), 200);
    const stored = await app.store.keys.get(old.key.id);
    assert.equal(stored?.replacedBy, rotated.key.id);
    await assert.rejects(app.keys.rotate(old.key.id, 1000, clock.now()), { code: 'VGL_KEY_NOT_FOUND' });
  });

  it('revoking during the grace period ends the old key at once', async () => {
    const { app, clock, call } = await gatewayApp();
    const old = await app.keys.create({ name: 'svc', scopes: ['agents:invoke'], expiresAt: null, now: clock.now() });
    await app.keys.rotate(old.key.id, 3_600_000, clock.now());
    await app.keys.revoke(old.key.id, clock.now());
    await app.keyCache.refresh();
    assert.equal(await call(old.plaintext), 401);
  });

  it('records last use (time and address) in batches, not per request', async () => {
    const { app, clock, call } = await gatewayApp();
    const key = await app.keys.create({ name: 'svc', scopes: ['agents:invoke'], expiresAt: null, now: clock.now() });
    await app.keyCache.refresh();
    for (let i = 0; i < 5; i++) assert.equal(await call(key.plaintext), 200);
    assert.equal((await app.store.keys.get(key.key.id))?.lastUsedAt, null, 'nothing written per request');
    await app.keyCache.flushUsage();
    const stored = await app.store.keys.get(key.key.id);
    assert.equal(stored?.lastUsedAt, clock.now());
    assert.equal(stored?.lastUsedIp, '127.0.0.1');
    const revision = await app.store.keys.revision();
    await call(key.plaintext);
    await app.keyCache.flushUsage();
    assert.equal(await app.store.keys.revision(), revision, 'usage does not make gateways reload keys');
  });

  it('rotates over the admin API with keys:write, audited, and refuses bad input with coded errors', async () => {
    const { app, clock, call, log } = await gatewayApp();
    const dev = await sessionHeaders(app, await addUser(app, 'dev', 'developer', clock.now()), clock.now());
    const viewer = await sessionHeaders(app, await addUser(app, 'viewer', 'viewer', clock.now()), clock.now());
    const post = (url: string, browser: BrowserHeaders, payload: unknown) => app.console.app.inject({ method: 'POST', url, headers: { ...browser }, payload: payload as object });
    const created = await post('/api/v1/keys', dev, { name: 'bot', owner: 'billing', scopes: ['agents:invoke'] });
    assert.equal(created.statusCode, 201, created.body);
    const { key, plaintext } = JSON.parse(created.body) as { key: { id: string; owner: string }; plaintext: string };
    assert.equal(key.owner, 'billing');
    assert.equal((await post(`/api/v1/keys/${key.id}/rotate`, viewer, {})).statusCode, 403);
    const rotated = await post(`/api/v1/keys/${key.id}/rotate`, dev, { graceSeconds: 30 });
    assert.equal(rotated.statusCode, 201, rotated.body);
    const next = JSON.parse(rotated.body) as { plaintext: string; oldKeyEndsAt: number };
    assert.equal(next.oldKeyEndsAt, clock.now() + 30_000);
    await app.keyCache.refresh();
    assert.equal(await call(plaintext), 200);
    assert.equal(await call(next.plaintext), 200);
    for (const [url, payload] of [
      [`/api/v1/keys/${key.id}/rotate`, { graceSeconds: -1 }],
      [`/api/v1/keys/${key.id}/rotate`, { graceSeconds: 'soon' }],
      ['/api/v1/keys/NOT-AN-ID/rotate', {}],
      ['/api/v1/keys', { name: 'x', owner: '\u0000evil' }],
    ] as const) {
      const res = await post(url, dev, payload);
      assert.equal(res.statusCode, 400, `${url} ${JSON.stringify(payload)}: ${res.body}`);
      assert.equal(errorCode(res.body), 'VGL_CONSOLE_BAD_REQUEST');
    }
    const missing = await post('/api/v1/keys/aaaaaaaaaaaa/rotate', dev, {});
    assert.equal(errorCode(missing.body), 'VGL_KEY_NOT_FOUND');
    const list = JSON.parse((await app.console.app.inject({ method: 'GET', url: '/api/v1/keys', headers: { ...viewer } })).body) as { keys: Record<string, unknown>[] };
    assert.ok(list.keys.every((k) => k.hash === undefined));
    assert.ok(!log.text.includes(plaintext) && !log.text.includes(next.plaintext), 'keys never reach the log');
    const entries = await app.store.audit.page(0, 1000);
    const actions = entries.filter((e) => e.actor === 'dev').map((e) => `${e.action}:${e.result}`);
    for (const expected of ['keys.create:success', 'keys.rotate:success', 'keys.rotate:failure']) assert.ok(actions.includes(expected), `${expected} in ${actions.join(', ')}`);
    assert.ok(!JSON.stringify(entries).includes(plaintext), 'no key in the audit log');
  });
});

describe('vigil keys (CLI)', () => {
  const vigil = runVigil;

  it('writes --out files 0400 without overwriting, rotates with a grace period and lists owner and status', () => {
    const dir = tempDir();
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, `store: { dataDir: ${JSON.stringify(join(dir, 'data'))} }\n`);
    const out = join(dir, 'svc.key');
    const created = vigil(['keys', 'create', '--name', 'svc', '--owner', 'team-a', '--scopes', 'agents:invoke', '--out', out, '--config', config]);
    assert.equal(created.status, 0, created.stderr);
    const id = created.stdout.trim();
    assert.match(id, /^[a-z2-7]{12}$/);
    assert.equal(statSync(out).mode & 0o777, 0o400);
    assert.match(readFileSync(out, 'utf8'), /^vgl_[a-z2-7]{12}_[A-Za-z0-9]{32}\n$/);
    assert.ok(!created.stdout.includes('vgl_') && !created.stderr.includes('vgl_'), 'the key is only in the file');
    const again = vigil(['keys', 'create', '--name', 'svc', '--out', out, '--config', config]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /VGL_CLI_USAGE.*must not exist/);
    const rotated = vigil(['keys', 'rotate', id, '--grace', '1h', '--json', '--config', config]);
    assert.equal(rotated.status, 0, rotated.stderr);
    const next = JSON.parse(rotated.stdout) as { id: string; key: string };
    assert.match(next.key, /^vgl_/);
    const badGrace = vigil(['keys', 'rotate', id, '--grace', 'forever', '--config', config]);
    assert.match(badGrace.stderr, /VGL_CLI_USAGE/);
    const list = JSON.parse(vigil(['keys', 'list', '--json', '--config', config]).stdout) as { id: string; status: string; owner: string; replacedBy: string | null }[];
    const old = list.find((k) => k.id === id);
    assert.equal(old?.status, 'rotating');
    assert.equal(old?.owner, 'team-a');
    assert.equal(old?.replacedBy, next.id);
    assert.equal(list.find((k) => k.id === next.id)?.status, 'active');
  });
});
