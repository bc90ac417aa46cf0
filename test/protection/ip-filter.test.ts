import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { isVigilError } from '../../src/core/errors.js';
import { addressGroup } from '../../src/protection/ip-filter.js';
import { eventsOf, get, okUpstream, startProtectedApp, statuses } from './limits-support.js';

describe('IP filters and client addresses', () => {
  it('global and route deny and allow lists answer a coded 403 and record a security event', async () => {
    const upstream = await okUpstream();
    const { gatewayUrl, app } = await startProtectedApp({
      gateway: {
        routes: [
          { name: 'open', prefix: '/open/', upstream: upstream.url, auth: 'none' },
          { name: 'office', prefix: '/office/', upstream: upstream.url, auth: 'none', ipFilter: { allow: ['10.0.0.0/8', 'fd00::/8'] } },
          { name: 'blocked', prefix: '/blocked/', upstream: upstream.url, auth: 'none', ipFilter: { allow: ['127.0.0.0/8'], deny: ['127.0.0.1'] } },
        ],
      },
    });
    assert.equal((await get(`${gatewayUrl}/open/x`)).status, 200);
    const office = await get(`${gatewayUrl}/office/x`);
    assert.equal(office.status, 403);
    assert.equal(office.code, 'VGL_IP_DENIED');
    assert.match(office.body, /not on the allow list/);
    const blocked = await get(`${gatewayUrl}/blocked/x`);
    assert.equal(blocked.code, 'VGL_IP_DENIED');
    assert.match(blocked.body, /deny list/);
    assert.equal(upstream.stats.requests, 1);
    const events = await eventsOf(app, 'ipfilter.denied');
    assert.equal(events.length, 2);
    assert.deepEqual(new Set(events.map((e) => e.details.route)), new Set(['office', 'blocked']));
    assert.equal(events[0]?.sourceIp, '127.0.0.1');
  });

  it('a global deny list covers every route', async () => {
    const upstream = await okUpstream();
    const { gatewayUrl } = await startProtectedApp({
      protection: { ipFilter: { deny: ['127.0.0.0/8'] } },
      gateway: { routes: [{ name: 'open', prefix: '/', upstream: upstream.url, auth: 'none' }] },
    });
    assert.equal((await get(`${gatewayUrl}/x`)).code, 'VGL_IP_DENIED');
  });

  it('X-Forwarded-For from an untrusted peer is ignored: a spoofed address neither dodges a limit nor passes a filter', async () => {
    const upstream = await okUpstream();
    const { gatewayUrl } = await startProtectedApp({
      gateway: {
        routes: [
          { name: 'api', prefix: '/api/', upstream: upstream.url, auth: 'none', rateLimits: { limits: [{ name: 'ip', by: 'ip', limit: 2, window: '1h' }] } },
          { name: 'office', prefix: '/office/', upstream: upstream.url, auth: 'none', ipFilter: { allow: ['10.0.0.0/8'] } },
        ],
      },
    });
    const results: number[] = [];
    for (let i = 0; i < 4; i++) results.push((await get(`${gatewayUrl}/api/x`, { 'x-forwarded-for': `198.51.100.${i}` })).status);
    assert.deepEqual(results, [200, 200, 429, 429]);
    assert.equal((await get(`${gatewayUrl}/office/x`, { 'x-forwarded-for': '10.1.2.3' })).code, 'VGL_IP_DENIED');
  });

  it('behind a trusted proxy the client is the rightmost untrusted X-Forwarded-For address', async () => {
    const upstream = await okUpstream();
    const { gatewayUrl, app } = await startProtectedApp({
      gateway: {
        trustedProxies: ['127.0.0.1', '10.9.0.0/16'],
        routes: [{ name: 'api', prefix: '/api/', upstream: upstream.url, auth: 'none', rateLimits: { limits: [{ name: 'ip', by: 'ip', limit: 1, window: '1h' }] } }],
      },
    });
    const url = `${gatewayUrl}/api/x`;
    assert.deepEqual(await statuses(url, 2, { 'x-forwarded-for': '203.0.113.5' }), [200, 429]);
    // The client's own left-hand claim does not matter; the hop our trusted proxy saw does.
    assert.deepEqual(await statuses(url, 2, { 'x-forwarded-for': '1.1.1.1, 203.0.113.6, 10.9.1.1' }), [200, 429]);
    assert.deepEqual(await statuses(url, 1, { 'x-forwarded-for': '2.2.2.2, 203.0.113.6' }), [429]);
    const [event] = await eventsOf(app, 'ratelimit.exceeded');
    assert.equal(event?.sourceIp, '203.0.113.6');
  });

  it('IPv6 clients share a counter per /64 by default, per configured prefix otherwise', async () => {
    const upstream = await okUpstream();
    const limited = { name: 'api', prefix: '/api/', upstream: upstream.url, auth: 'none', rateLimits: { limits: [{ name: 'ip', by: 'ip', limit: 1, window: '1h' }] } };
    const { gatewayUrl } = await startProtectedApp({ gateway: { trustedProxies: ['127.0.0.1'], routes: [limited] } });
    const url = `${gatewayUrl}/api/x`;
    assert.equal((await get(url, { 'x-forwarded-for': '2001:db8:1:2::1' })).status, 200);
    assert.equal((await get(url, { 'x-forwarded-for': '2001:db8:1:2:ffff:ffff:ffff:fffe' })).status, 429);
    assert.equal((await get(url, { 'x-forwarded-for': '2001:db8:1:3::1' })).status, 200);
    const wide = await startProtectedApp({ protection: { ipv6Prefix: 48 }, gateway: { trustedProxies: ['127.0.0.1'], routes: [limited] } });
    assert.equal((await get(`${wide.gatewayUrl}/api/x`, { 'x-forwarded-for': '2001:db8:1:2::1' })).status, 200);
    assert.equal((await get(`${wide.gatewayUrl}/api/x`, { 'x-forwarded-for': '[2001:db8:1:3::1]:443' })).status, 429);
  });

  it('groups addresses canonically', () => {
    assert.equal(addressGroup('2001:DB8:1:2:3:4:5:6', 64), '2001:db8:1:2::/64');
    assert.equal(addressGroup('2001:db8:abcd:12ff::1', 56), '2001:db8:abcd:1200::/56');
    assert.equal(addressGroup('::ffff:192.0.2.1', 64), '192.0.2.1');
    assert.equal(addressGroup('64:ff9b::192.0.2.33', 96), '64:ff9b::/96');
    assert.equal(addressGroup('192.0.2.1', 64), '192.0.2.1');
    assert.equal(addressGroup('2001:db8::1', 128), '2001:db8::1');
  });

  it('rejects hostile filter values with their path', () => {
    for (const value of ['10.0.0.0/33', '::1/129', 'example.com', '10.0.0.1/8/8', '10.0.0.0/-1', '']) {
      assert.throws(
        () => parseConfig(JSON.stringify({ protection: { ipFilter: { deny: [value] } } }), 'test.yaml', {}),
        (err: unknown) => isVigilError(err) && err.code === 'VGL_CONFIG_INVALID' && /protection\.ipFilter\.deny/.test(err.message),
        value,
      );
    }
    assert.throws(() => parseConfig(JSON.stringify({ protection: { ipv6Prefix: 8 } }), 'test.yaml', {}), /ipv6Prefix/);
  });
});
