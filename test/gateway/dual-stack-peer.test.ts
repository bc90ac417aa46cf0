import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import { request } from 'undici';
import { banTarget } from '../../src/protection/bans.js';
import { isVigilError } from '../../src/core/errors.js';
import { headerRecorder, startApp } from '../support/helpers.js';

/**
 * Regression: on a dual-stack listener (`host: '::'`) an IPv4 client's socket address is
 * `::ffff:a.b.c.d`. The client address was made plain IPv4 but the direct peer was not, so the
 * hop Vigil appended to X-Forwarded-For and Forwarded named the same client differently
 * (`::ffff:127.0.0.1`, `for="[::ffff:127.0.0.1]"`) from the chain it rebuilt and from its own records.
 */

async function send(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  const body = await res.body.text();
  return { status: res.statusCode, code: res.statusCode === 200 ? undefined : (JSON.parse(body) as { error: { code: string } }).error.code };
}

/** A gateway on `::`, and its URLs over IPv4 (a mapped peer) and over IPv6 loopback. */
async function dualStack(gateway: Record<string, unknown>, rest: Record<string, unknown> = {}) {
  const started = await startApp({ ...rest, gateway: { ...gateway, listen: { host: '::', port: 0 } } });
  const port = started.app.gateway.address().port;
  return { ...started, port, v4: `http://127.0.0.1:${port}`, v6: `http://[::1]:${port}` };
}

describe('an IPv4 client of a dual-stack listener is one plain IPv4 address everywhere', () => {
  before(async () => {
    // The premise: this machine's `::` listener is dual-stack and reports IPv4 peers as mapped.
    const probe = createServer((req, res) => res.end(req.socket.remoteAddress));
    await new Promise<void>((resolve) => probe.listen(0, '::', resolve));
    const res = await request(`http://127.0.0.1:${(probe.address() as AddressInfo).port}/`);
    const seen = await res.body.text();
    probe.close();
    assert.equal(seen, '::ffff:127.0.0.1');
  });

  it('forwarding headers, the access record and trusted-proxy matching name 127.0.0.1, not ::ffff:127.0.0.1', async () => {
    const upstream = await headerRecorder();
    const route = { name: 'r', prefix: '/r/', upstream: upstream.url, auth: 'none' };
    for (const clientAddressHeader of ['x-forwarded-for', 'forwarded'] as const) {
      const untrusted = await dualStack({ routes: [route], clientAddressHeader });
      assert.equal((await send(`${untrusted.v4}/r/x`, { 'x-request-id': `plain-${clientAddressHeader}` })).status, 200);
      let got = upstream.seen.at(-1) as IncomingHttpHeaders;
      assert.equal(got['x-forwarded-for'], '127.0.0.1', clientAddressHeader);
      assert.equal(got.forwarded, `for=127.0.0.1;proto=http;host="127.0.0.1:${untrusted.port}"`, clientAddressHeader);
      const access = untrusted.log.records().find((r) => (r.access as { requestId?: string } | undefined)?.requestId === `plain-${clientAddressHeader}`);
      assert.equal((access?.access as { clientIp: string }).clientIp, '127.0.0.1');

      // An IPv4 trusted proxy list matches the mapped peer; the appended hop is plain like the rebuilt ones.
      const trusted = await dualStack({ routes: [route], clientAddressHeader, trustedProxies: ['127.0.0.1'] });
      const chain: Record<string, string> = clientAddressHeader === 'forwarded' ? { forwarded: 'for="[::ffff:192.0.2.7]"' } : { 'x-forwarded-for': '::ffff:192.0.2.7' };
      assert.equal((await send(`${trusted.v4}/r/x`, { ...chain, 'x-request-id': `chain-${clientAddressHeader}` })).status, 200);
      got = upstream.seen.at(-1) as IncomingHttpHeaders;
      const own = `for=127.0.0.1;proto=http;host="127.0.0.1:${trusted.port}"`;
      if (clientAddressHeader === 'forwarded') {
        assert.equal(got['x-forwarded-for'], '192.0.2.7, 127.0.0.1');
        assert.equal(got.forwarded, `for="[::ffff:192.0.2.7]", ${own}`, 'the header Vigil reads is kept as the proxies wrote it');
      } else {
        assert.equal(got['x-forwarded-for'], '::ffff:192.0.2.7, 127.0.0.1', 'the header Vigil reads is kept as the proxies wrote it');
        assert.equal(got.forwarded, `for=192.0.2.7, ${own}`);
      }
      const access2 = trusted.log.records().find((r) => (r.access as { requestId?: string } | undefined)?.requestId === `chain-${clientAddressHeader}`);
      assert.equal((access2?.access as { clientIp: string }).clientIp, '192.0.2.7');
    }
  });

  it('deny lists, bans and rate-limit counters treat 127.0.0.1 and ::ffff:127.0.0.1 as one client', async () => {
    const upstream = await headerRecorder();
    const open = { name: 'open', prefix: '/open/', upstream: upstream.url, auth: 'none', rateLimits: { limits: [{ name: 'ip', by: 'ip', limit: 1, window: '1h' }] } };
    const denied = { name: 'denied', prefix: '/denied/', upstream: upstream.url, auth: 'none', ipFilter: { deny: ['127.0.0.1'] } };
    const deniedMapped = { name: 'mapped', prefix: '/mapped/', upstream: upstream.url, auth: 'none', ipFilter: { deny: ['::ffff:127.0.0.0/120'] } };
    // Reached over IPv6 loopback (a trusted proxy), the same client arrives named by X-Forwarded-For, in either form.
    const gw = await dualStack({ routes: [open, denied, deniedMapped], trustedProxies: ['::1'] });

    for (const base of [gw.v4, gw.v6]) {
      const forms: Record<string, string>[] = base === gw.v4 ? [{}] : [{ 'x-forwarded-for': '127.0.0.1' }, { 'x-forwarded-for': '::ffff:127.0.0.1' }];
      for (const xff of forms) {
        assert.equal((await send(`${base}/denied/x`, xff)).code, 'VGL_IP_DENIED', `${base} ${JSON.stringify(xff)}`);
        assert.equal((await send(`${base}/mapped/x`, xff)).code, 'VGL_IP_DENIED', `${base} ${JSON.stringify(xff)}`);
      }
    }
    // One counter: the first request over IPv4 uses it up for the IPv6-proxied forms too.
    assert.equal((await send(`${gw.v4}/open/x`)).status, 200);
    assert.equal((await send(`${gw.v6}/open/x`, { 'x-forwarded-for': '127.0.0.1' })).code, 'VGL_RATE_LIMITED');
    assert.equal((await send(`${gw.v6}/open/x`, { 'x-forwarded-for': '::ffff:127.0.0.1' })).code, 'VGL_RATE_LIMITED');
    assert.equal((await send(`${gw.v6}/open/x`, { 'x-forwarded-for': '127.0.0.2' })).status, 200, 'another client has its own counter');

    // A ban written either way covers the client whichever way it arrives.
    for (const target of ['127.0.0.1', '::ffff:127.0.0.1', '::ffff:127.0.0.0/120', '::ffff:0:0/96']) {
      const ban = await gw.app.bans.add(target, 60_000, 'test', 'tester');
      assert.equal((await send(`${gw.v4}/open/x`)).code, 'VGL_BANNED', target);
      assert.equal((await send(`${gw.v6}/open/x`, { 'x-forwarded-for': '127.0.0.1' })).code, 'VGL_BANNED', target);
      assert.equal((await send(`${gw.v6}/open/x`, { 'x-forwarded-for': '::ffff:127.0.0.1' })).code, 'VGL_BANNED', target);
      await gw.app.bans.remove(ban.target);
    }
  });

  it('an IPv4-mapped ban target is stored as the IPv4 address or network it names; a prefix below /96 is refused', () => {
    assert.deepEqual(banTarget('::ffff:192.0.2.9'), { target: '192.0.2.9', kind: 'ip' });
    assert.deepEqual(banTarget('::ffff:192.0.2.0/120'), { target: '192.0.2.0/24', kind: 'ip' });
    assert.deepEqual(banTarget('::ffff:192.0.2.9/128'), { target: '192.0.2.9', kind: 'ip' });
    for (const bad of ['::ffff:192.0.2.0/64', '::ffff:192.0.2.0/129', '::ffff:192.0.2.0/x']) {
      assert.throws(() => banTarget(bad), (err: unknown) => isVigilError(err) && err.code === 'VGL_BAN_TARGET_INVALID', bad);
    }
  });
});
