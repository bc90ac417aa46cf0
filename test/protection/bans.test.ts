import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isVigilError } from '../../src/core/errors.js';
import { cliWorkspace } from '../support/cli.js';
import { tempDir } from '../support/helpers.js';
import { eventsOf, get, okUpstream, startProtectedApp } from './limits-support.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

function limited(upstream: string) {
  return { name: 'api', prefix: '/api/', upstream, auth: 'none', rateLimits: { limits: [{ name: 'one', by: 'ip', limit: 1, window: '1h' }] } };
}

const scenario = { name: 'flood', events: ['ratelimit.*'], capacity: 2, leak: '1m', banFor: '10s', maxBanFor: '25s', factor: 2 };

describe('bans', () => {
  it('a scenario bans on overflow, each repeat longer up to the maximum, and bans expire', async () => {
    const upstream = await okUpstream();
    const { gatewayUrl, clock, app } = await startProtectedApp({ bans: { scenarios: [scenario] }, gateway: { routes: [limited(upstream.url)] } });
    const url = `${gatewayUrl}/api/x`;
    // Refused requests until the ban lands: the third event in the bucket overflows it.
    const offend = async () => {
      let refused = 0;
      while ((await get(url)).status === 429 && refused < 10) {
        refused++;
        await settle();
      }
      return refused;
    };
    assert.equal((await get(url)).status, 200);
    assert.equal(await offend(), 3);
    const banned = await get(url);
    assert.equal(banned.status, 403);
    assert.equal(banned.code, 'VGL_BANNED');
    assert.equal(banned.headers['retry-after'], '10');
    const [created] = await eventsOf(app, 'ban.created');
    assert.equal(created?.severity, 'high');
    assert.equal(created?.details.target, '127.0.0.1');
    // Refused requests of a banned client do not extend its ban.
    for (let i = 0; i < 5; i++) await get(url);
    clock.advance(10_000);
    assert.equal(await offend(), 3);
    assert.equal((await get(url)).headers['retry-after'], '20');
    clock.advance(20_000);
    assert.equal(await offend(), 3);
    assert.equal((await get(url)).headers['retry-after'], '25');
    const [ban] = app.bans.list();
    assert.equal(ban?.offences, 3);
    clock.advance(25_000);
    assert.equal((await get(url)).code, 'VGL_RATE_LIMITED');
  });

  it('allow-listed addresses are never banned, automatically or by hand', async () => {
    const upstream = await okUpstream();
    const { gatewayUrl, app } = await startProtectedApp({ bans: { allowList: ['127.0.0.0/8'], scenarios: [scenario] }, gateway: { routes: [limited(upstream.url)] } });
    for (let i = 0; i < 12; i++) await get(`${gatewayUrl}/api/x`);
    await settle();
    assert.equal((await get(`${gatewayUrl}/api/x`)).code, 'VGL_RATE_LIMITED');
    assert.deepEqual(app.bans.list(), []);
    for (const target of ['127.0.0.1', '127.0.0.0/16', '0.0.0.0/0']) {
      await assert.rejects(app.bans.add(target, 60_000, 'test', 'tester'), (err: unknown) => isVigilError(err) && err.code === 'VGL_BAN_ALLOWLISTED', target);
    }
  });

  it('bans persist across restarts; identities and IPv6 networks are banned too', async () => {
    const upstream = await okUpstream();
    const dataDir = tempDir();
    const config = { gateway: { routes: [{ name: 'api', prefix: '/api/', upstream: upstream.url, auth: 'none' }], trustedProxies: ['127.0.0.1'] } };
    const first = await startProtectedApp(config, { dataDir, stop: false });
    await first.app.bans.add('198.51.100.7', 3_600_000, 'abuse', 'tester');
    const v6 = await first.app.bans.add('2001:db8:1:2::99/64', 3_600_000, 'abuse', 'tester');
    assert.equal(v6.target, '2001:db8:1:2::/64');
    await assert.rejects(first.app.bans.add('not a target', 1000, 'x', 'y'), (err: unknown) => isVigilError(err) && err.code === 'VGL_BAN_TARGET_INVALID');
    await first.app.stop();
    const second = await startProtectedApp(config, { dataDir });
    const url = `${second.gatewayUrl}/api/x`;
    assert.equal((await get(url, { 'x-forwarded-for': '198.51.100.7' })).code, 'VGL_BANNED');
    assert.equal((await get(url, { 'x-forwarded-for': '2001:db8:1:2:aaaa::1' })).code, 'VGL_BANNED');
    assert.equal((await get(url, { 'x-forwarded-for': '2001:db8:1:3::1' })).status, 200);
    assert.equal((await get(url, { 'x-forwarded-for': '198.51.100.8' })).status, 200);
    await second.app.bans.remove('198.51.100.7');
    assert.equal((await get(url, { 'x-forwarded-for': '198.51.100.7' })).status, 200);
    await assert.rejects(second.app.bans.remove('198.51.100.7'), (err: unknown) => isVigilError(err) && err.code === 'VGL_BAN_NOT_FOUND');
    assert.equal((await eventsOf(second.app, 'ban.rejected')).length, 2);
  });

  it('is shared through Redis with another instance within a second', async () => {
    const prefix = `vgltest:${randomBytes(4).toString('hex')}:`;
    const upstream = await okUpstream();
    const config = { protection: { redis: { url: 'redis://127.0.0.1:6379/0', keyPrefix: prefix } }, gateway: { routes: [{ name: 'api', prefix: '/api/', upstream: upstream.url, auth: 'none' }] } };
    const one = await startProtectedApp(config);
    const two = await startProtectedApp(config);
    await one.app.bans.add('127.0.0.1', 3_600_000, 'shared', 'tester');
    let code: string | undefined;
    for (let i = 0; i < 20 && code === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      code = (await get(`${two.gatewayUrl}/api/x`)).code;
    }
    assert.equal(code, 'VGL_BANNED');
    // The other instance stored it too.
    assert.equal((await two.app.store.bans.get('127.0.0.1'))?.reason, 'shared');
  });

  it('vigil bans add | list | remove', () => {
    const { vigil } = cliWorkspace();
    const added = vigil(['bans', 'add', '203.0.113.9', '--for', '2h', '--reason', 'scanner', '--json']);
    assert.equal(added.status, 0, added.stderr);
    assert.equal((JSON.parse(added.stdout) as { target: string }).target, '203.0.113.9');
    const list = vigil(['bans', 'list']);
    assert.match(list.stdout, /203\.0\.113\.9\tip\tuntil .*scanner/);
    assert.equal(vigil(['bans', 'add', 'bad target!', '--for', '1h']).status !== 0, true);
    assert.equal(vigil(['bans', 'remove', '203.0.113.9']).status, 0);
    assert.equal(vigil(['bans', 'list', '--json']).stdout.trim(), '[]');
    const again = vigil(['bans', 'remove', '203.0.113.9']);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /VGL_BAN_NOT_FOUND/);
  });
});
