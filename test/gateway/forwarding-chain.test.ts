import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { headerRecorder, rawExchange, startApp } from '../support/helpers.js';

/**
 * Regression: behind a trusted proxy Vigil passed on both X-Forwarded-For and Forwarded from the
 * caller, though it reads only one of them. A proxy that writes only one passes the other through
 * from the client untouched, so a spoofed value reached the upstream as if Vigil vouched for it.
 */

function gateway(upstream: string, extra: Record<string, unknown> = {}) {
  return { trustedProxies: ['127.0.0.1', '::1', '10.9.0.0/16'], routes: [{ name: 'r', prefix: '/r/', upstream, auth: 'none' }], ...extra };
}

/** The forwarding headers the upstream saw for one request. */
async function forwardedAs(url: string, seen: IncomingHttpHeaders[], headers: Record<string, string | string[]>) {
  const res = await request(url, { headers });
  await res.body.dump();
  assert.equal(res.statusCode, 200);
  const got = seen.at(-1) as IncomingHttpHeaders;
  return { xff: got['x-forwarded-for'], forwarded: got.forwarded, proto: got['x-forwarded-proto'], host: got['x-forwarded-host'] };
}

const OWN = (port: number) => `for=127.0.0.1;proto=http;host="127.0.0.1:${port}"`;

describe('forwarding headers behind a trusted proxy: the header Vigil does not read is rebuilt, never passed on', () => {
  it('clientAddressHeader x-forwarded-for: Forwarded is rebuilt from X-Forwarded-For (IPv6 bracketed, ports dropped, no address as unknown)', async () => {
    const upstream = await headerRecorder();
    const { app, gatewayUrl } = await startApp({ gateway: gateway(upstream.url) });
    const port = app.gateway.address().port;
    const url = `${gatewayUrl}/r/x`;
    const spoof = { forwarded: 'for=198.51.100.66;proto=https;host=evil.example' };

    let got = await forwardedAs(url, upstream.seen, { ...spoof, 'x-forwarded-for': '192.0.2.1, 2001:DB8::5, [2001:db8::6]:443, 198.51.100.4:5678, ::ffff:10.9.0.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example' });
    assert.equal(got.xff, '192.0.2.1, 2001:DB8::5, [2001:db8::6]:443, 198.51.100.4:5678, ::ffff:10.9.0.5, 127.0.0.1', 'the header Vigil reads is kept and appended to');
    assert.equal(got.forwarded, `for=192.0.2.1, for="[2001:db8::5]", for="[2001:db8::6]", for=198.51.100.4, for=10.9.0.5, ${OWN(port)}`);
    assert.equal(got.proto, 'https', 'X-Forwarded-Proto and -Host follow X-Forwarded-For: kept from a trusted proxy');
    assert.equal(got.host, 'api.example');

    // Left of a hop that names no address is the client's own claim: one `unknown` stands for it.
    got = await forwardedAs(url, upstream.seen, { ...spoof, 'x-forwarded-for': '198.51.100.7, unknown, 203.0.113.1' });
    assert.equal(got.forwarded, `for=unknown, for=203.0.113.1, ${OWN(port)}`);
    got = await forwardedAs(url, upstream.seen, { ...spoof, 'x-forwarded-for': ['203.0.113.2', 'junk;proto=https'] });
    assert.equal(got.forwarded, `for=unknown, ${OWN(port)}`, 'nothing the client wrote is copied into Forwarded');

    got = await forwardedAs(url, upstream.seen, spoof);
    assert.equal(got.forwarded, OWN(port), 'no X-Forwarded-For: only Vigil’s hop');
    assert.equal(got.xff, '127.0.0.1');
  });

  it('clientAddressHeader forwarded: X-Forwarded-For is rebuilt from Forwarded, X-Forwarded-Proto/-Host come from the element naming the client', async () => {
    const upstream = await headerRecorder();
    const { app, gatewayUrl, log } = await startApp({ gateway: gateway(upstream.url, { clientAddressHeader: 'forwarded' }) });
    const port = app.gateway.address().port;
    const url = `${gatewayUrl}/r/x`;
    const spoof = { 'x-forwarded-for': '198.51.100.66', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' };

    const chain = 'for=192.0.2.1;proto=http, For="[2001:DB8::7]:4711";Proto=HTTPS;host="api.example:8443", for=10.9.0.5;proto=http';
    let got = await forwardedAs(url, upstream.seen, { ...spoof, forwarded: chain, 'x-request-id': 'v6' });
    assert.equal(got.forwarded, `${chain}, ${OWN(port)}`, 'the header Vigil reads is kept and appended to');
    assert.equal(got.xff, '192.0.2.1, 2001:db8::7, 10.9.0.5, 127.0.0.1');
    assert.equal(got.proto, 'https', 'from the element that names the client, not the caller');
    assert.equal(got.host, 'api.example:8443');
    const access = log.records().find((r) => (r.access as { requestId?: string } | undefined)?.requestId === 'v6');
    assert.equal((access?.access as { clientIp: string }).clientIp, '2001:db8::7', 'the same client the rebuilt header names last before the trusted hops');

    // An obfuscated or unknown hop ends the chain; the client is the trusted hop after it, whose element has no proto.
    got = await forwardedAs(url, upstream.seen, { ...spoof, forwarded: 'for=198.51.100.4, for="_hidden";proto=https, for=10.9.0.5' });
    assert.equal(got.xff, 'unknown, 10.9.0.5, 127.0.0.1');
    assert.equal(got.proto, 'http', 'Vigil’s own scheme when the client’s element names none');
    assert.equal(got.host, `127.0.0.1:${port}`, 'the request’s Host when the client’s element names none');
    got = await forwardedAs(url, upstream.seen, { ...spoof, forwarded: 'for=unknown;proto=https' });
    assert.equal(got.xff, 'unknown, 127.0.0.1');
    assert.equal(got.proto, 'http', 'an element without an address names no client');
    got = await forwardedAs(url, upstream.seen, { ...spoof, forwarded: 'for="[::ffff:192.0.2.9]";proto="javascript:x";host="a b"' });
    assert.equal(got.xff, '192.0.2.9, 127.0.0.1');
    assert.equal(got.proto, 'http', 'a proto that is no URI scheme is not passed on');
    assert.equal(got.host, `127.0.0.1:${port}`, 'nor a host that is no host');
    got = await forwardedAs(url, upstream.seen, { ...spoof, forwarded: 'for=198.51.100.8;proto=https;proto=http' });
    assert.equal(got.proto, 'http', 'proto twice in one element: neither');

    got = await forwardedAs(url, upstream.seen, spoof);
    assert.deepEqual(got, { xff: '127.0.0.1', forwarded: OWN(port), proto: 'http', host: `127.0.0.1:${port}` }, 'no Forwarded: only Vigil’s hop, whatever X-Forwarded-* the caller sent');
  });

  it('clientAddressHeader x-forwarded-for: X-Forwarded-Proto/-Host from a trusted proxy pass only as one scheme / one plain host[:port]', async () => {
    const upstream = await headerRecorder();
    const { app, gatewayUrl } = await startApp({ gateway: gateway(upstream.url, { maxHeaderBytes: 1_048_576 }) });
    const port = app.gateway.address().port;
    const url = `${gatewayUrl}/r/x`;
    const ownHost = `127.0.0.1:${port}`;
    const claim = (proto: string | string[], host: string | string[]) => forwardedAs(url, upstream.seen, { 'x-forwarded-for': '192.0.2.1', 'x-forwarded-proto': proto, 'x-forwarded-host': host });

    let got = await claim('HTTPS', '[2001:db8::1]:8443');
    assert.deepEqual([got.proto, got.host], ['https', '[2001:db8::1]:8443'], 'well-formed: passed on (the scheme lowercased)');
    const hostile: [string | string[], string | string[]][] = [
      ['javascript:alert(1)', 'host@evil.example'],
      ['https, http', 'a.example, b.example'],
      [['https', 'http'], ['a.example', 'b.example']],
      ['ht tp', 'a b.example'],
      ['h'.repeat(100_000), `${'a'.repeat(300_000)}.example`],
      ['https;q=1', 'evil.example/path?x'],
      ['', '[2001:db8::1'],
      ['1http', '.'.repeat(254)],
    ];
    for (const [proto, host] of hostile) {
      got = await claim(proto, host);
      assert.deepEqual([got.proto, got.host], ['http', ownHost], `${String(proto).slice(0, 30)} | ${String(host).slice(0, 30)}: Vigil's own scheme and the request's Host instead`);
      assert.equal(got.forwarded, `for=192.0.2.1, ${OWN(port)}`);
    }

    // Bytes undici will not send: controls (the HTTP parser refuses them: never forwarded), a tab inside a value, UTF-8.
    for (const [proto, host, status] of [['ht\x7ftp', 'a\x7fb.example', 400], ['https\x01', 'a\x01b', 400], ['ht\ttp', 'a\tb.example', 200], ['https\u00e9', '\u00e9vil.example', 200]] as const) {
      const before = upstream.seen.length;
      const raw = await rawExchange(port, `GET /r/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Forwarded-For: 192.0.2.1\r\nX-Forwarded-Proto: ${proto}\r\nX-Forwarded-Host: ${host}\r\nConnection: close\r\n\r\n`);
      assert.ok(raw.startsWith(`HTTP/1.1 ${status} `), JSON.stringify(proto));
      if (status === 400) assert.equal(upstream.seen.length, before);
      else assert.deepEqual([upstream.seen.at(-1)?.['x-forwarded-proto'], upstream.seen.at(-1)?.['x-forwarded-host']], ['http', ownHost], JSON.stringify(proto));
    }

    // The request's own Host is the fallback only when it is a plain host itself; otherwise no X-Forwarded-Host and no host= at all.
    const raw = await rawExchange(port, `GET /r/x HTTP/1.1\r\nHost: a b@evil\r\nX-Forwarded-For: 192.0.2.1\r\nX-Forwarded-Host: c d\r\nConnection: close\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 200 /);
    const seen = upstream.seen.at(-1) as IncomingHttpHeaders;
    assert.equal(seen['x-forwarded-host'], undefined);
    assert.equal(seen.forwarded, 'for=192.0.2.1, for=127.0.0.1;proto=http');
  });

  it('an IPv6 peer is appended bracketed to Forwarded and bare to X-Forwarded-For, in both configurations', async () => {
    const upstream = await headerRecorder();
    for (const clientAddressHeader of ['x-forwarded-for', 'forwarded'] as const) {
      const { app } = await startApp({ gateway: { ...gateway(upstream.url, { clientAddressHeader }), listen: { host: '::1', port: 0 } } });
      const url = `http://[::1]:${app.gateway.address().port}/r/x`;
      const got = await forwardedAs(url, upstream.seen, clientAddressHeader === 'forwarded' ? { forwarded: 'for="[2001:db8::9]"', 'x-forwarded-for': '198.51.100.66' } : { 'x-forwarded-for': '2001:db8::9', forwarded: 'for=198.51.100.66' });
      assert.equal(got.xff, '2001:db8::9, ::1', clientAddressHeader);
      assert.match(String(got.forwarded), /^for="\[2001:db8::9\]", for="\[::1\]";proto=http;host="\[::1\]:\d+"$/, clientAddressHeader);
    }
  });

  it('long and hostile chains: the rebuilt header holds only addresses and one unknown; oversized and undecodable headers keep their coded errors', async () => {
    const upstream = await headerRecorder();
    const xffApp = await startApp({ gateway: gateway(upstream.url, { maxHeaderBytes: 1_048_576 }) });
    const fwdApp = await startApp({ gateway: gateway(upstream.url, { maxHeaderBytes: 1_048_576, clientAddressHeader: 'forwarded' }) });
    const xffUrl = `${xffApp.gatewayUrl}/r/x`;
    const fwdUrl = `${fwdApp.gatewayUrl}/r/x`;

    let got = await forwardedAs(xffUrl, upstream.seen, { 'x-forwarded-for': `203.0.113.50, ${'10.9.0.1, '.repeat(50_000)}10.9.0.2` });
    assert.equal(String(got.forwarded).split(', ').length, 50_003);
    assert.ok(String(got.forwarded).startsWith('for=203.0.113.50, for=10.9.0.1, '));
    got = await forwardedAs(xffUrl, upstream.seen, { 'x-forwarded-for': ','.repeat(500_000), forwarded: 'for=198.51.100.66' });
    assert.equal(got.forwarded, `for=unknown, ${OWN(xffApp.app.gateway.address().port)}`, 'empty elements do not grow into half a million unknowns');
    for (const forwarded of ['"'.repeat(900_000), `for="${'x,'.repeat(300_000)}`, `for=198.51.100.9${';'.repeat(500_000)}, for=10.9.0.3`]) {
      got = await forwardedAs(fwdUrl, upstream.seen, { forwarded, 'x-forwarded-for': '198.51.100.66' });
      assert.match(String(got.xff), /^(?:unknown|198\.51\.100\.9, 10\.9\.0\.3), 127\.0\.0\.1$/, forwarded.slice(0, 20));
    }
    const seen = upstream.seen.length;

    for (const { app } of [xffApp, fwdApp]) {
      const port = app.gateway.address().port;
      const big = await rawExchange(port, `GET /r/x HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.9.0.1\r\nForwarded: for=${'1'.repeat(1_100_000)}\r\nConnection: close\r\n\r\n`);
      assert.match(big, /^HTTP\/1\.1 431 [^]*"code":"VGL_GATEWAY_HEADERS_TOO_LARGE"/);
      const raw = await rawExchange(port, Buffer.from('GET /r/x HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.9.0.1\r\nForwarded: for="\xff\xfe", for=10.9.0.5\r\nConnection: close\r\n\r\n', 'latin1'));
      assert.match(raw, /^HTTP\/1\.1 400 [^]*"code":"VGL_GATEWAY_INVALID_ENCODING"/);
    }
    assert.equal(upstream.seen.length, seen, 'refused requests never reach the upstream');
  });
});
