import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { HELMET_CSP } from '../../src/config/http-protection-schema.js';
import { configError, startApp, startServer, tempDir } from '../support/helpers.js';

/** An upstream that sends its own CSP and frame policy, and advertises its stack. */
async function upstream() {
  return startServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'text/plain',
      'content-security-policy': "default-src 'none'; sandbox",
      'x-frame-options': 'DENY',
      'x-powered-by': 'Express',
      server: 'upstream/1.0',
    });
    res.end('ok');
  });
}

const HELMET_DEFAULTS: Record<string, string> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};


describe('security headers', () => {
  it('adds helmet’s defaults to upstream responses, keeps the upstream’s own CSP and frame policy, removes X-Powered-By and Server, no HSTS over plain HTTP', async () => {
    const up = await upstream();
    const plain = await startServer((_req, res) => res.end('plain'));
    const { gatewayUrl } = await startApp({
      gateway: {
        routes: [
          { name: 'own', prefix: '/own/', upstream: up.url, auth: 'none' },
          { name: 'plain', prefix: '/plain/', upstream: plain.url, auth: 'none' },
        ],
      },
    });
    const own = await request(`${gatewayUrl}/own/x`);
    await own.body.dump();
    for (const [name, value] of Object.entries(HELMET_DEFAULTS)) assert.equal(own.headers[name], value, name);
    assert.equal(own.headers['content-security-policy'], "default-src 'none'; sandbox", 'the upstream CSP is kept');
    assert.equal(own.headers['x-frame-options'], 'DENY', 'the upstream frame policy is kept');
    assert.match(String(own.headers['permissions-policy']), /camera=\(\)/);
    assert.equal(own.headers['x-powered-by'], undefined);
    assert.equal(own.headers.server, undefined);
    assert.equal(own.headers['strict-transport-security'], undefined);

    const bare = await request(`${gatewayUrl}/plain/x`);
    await bare.body.dump();
    assert.equal(bare.headers['content-security-policy'], HELMET_CSP);
    assert.equal(bare.headers['x-frame-options'], 'SAMEORIGIN');
  });

  it('per route: overrides named upstream headers, changes values and drops headers set to false', async () => {
    const up = await upstream();
    const { gatewayUrl } = await startApp({
      gateway: {
        routes: [
          {
            name: 'custom',
            prefix: '/c/',
            upstream: up.url,
            auth: 'none',
            securityHeaders: {
              override: ['content-security-policy'],
              contentSecurityPolicy: "default-src 'self'",
              xFrameOptions: false,
              referrerPolicy: ['no-referrer', 'strict-origin-when-cross-origin'],
              crossOriginResourcePolicy: 'cross-origin',
              hidePoweredBy: false,
            },
          },
          { name: 'off', prefix: '/off/', upstream: up.url, auth: 'none', securityHeaders: { enabled: false } },
          { name: 'all', prefix: '/all/', upstream: up.url, auth: 'none', securityHeaders: { override: true } },
        ],
      },
    });
    const custom = await request(`${gatewayUrl}/c/x`);
    await custom.body.dump();
    assert.equal(custom.headers['content-security-policy'], "default-src 'self'");
    // Not overridden and not configured to be: the upstream's own value stays.
    assert.equal(custom.headers['x-frame-options'], 'DENY');
    assert.equal(custom.headers['referrer-policy'], 'no-referrer,strict-origin-when-cross-origin');
    assert.equal(custom.headers['cross-origin-resource-policy'], 'cross-origin');
    assert.equal(custom.headers['x-powered-by'], 'Express');

    const off = await request(`${gatewayUrl}/off/x`);
    await off.body.dump();
    assert.equal(off.headers['x-content-type-options'], undefined);
    assert.equal(off.headers['content-security-policy'], "default-src 'none'; sandbox");

    const all = await request(`${gatewayUrl}/all/x`);
    await all.body.dump();
    assert.equal(all.headers['content-security-policy'], HELMET_CSP);
    assert.equal(all.headers['x-frame-options'], 'SAMEORIGIN');
  });

  it('puts the route’s headers on the gateway’s own rejections too', async () => {
    const up = await upstream();
    const { gatewayUrl } = await startApp({ gateway: { routes: [{ name: 'keyed', prefix: '/k/', upstream: up.url }] } });
    const res = await request(`${gatewayUrl}/k/x`);
    assert.equal(res.statusCode, 401);
    await res.body.dump();
    assert.equal(res.headers['content-security-policy'], HELMET_CSP);
    assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
  });

  it('sends HSTS only over TLS', { timeout: 30_000 }, async () => {
    const dir = tempDir();
    const cert = join(dir, 'gw.pem');
    const key = join(dir, 'gw.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=gw', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
    chmodSync(key, 0o600);
    const up = await upstream();
    const { app } = await startApp({
      gateway: {
        tls: { cert, key },
        routes: [
          { name: 'r', prefix: '/r/', upstream: up.url, auth: 'none' },
          { name: 'p', prefix: '/p/', upstream: up.url, auth: 'none', securityHeaders: { strictTransportSecurity: { maxAge: '730d', preload: true } } },
        ],
      },
    });
    const agent = new Agent({ connect: { ca: readFileSync(cert) } });
    const base = `https://127.0.0.1:${app.gateway.address().port}`;
    const res = await request(`${base}/r/x`, { dispatcher: agent });
    await res.body.dump();
    assert.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
    const preload = await request(`${base}/p/x`, { dispatcher: agent });
    await preload.body.dump();
    assert.equal(preload.headers['strict-transport-security'], 'max-age=63072000; includeSubDomains; preload');
    await agent.close();
  });

  it('puts the console’s headers on console responses, configurable', async () => {
    const { consoleUrl } = await startApp({ console: { securityHeaders: { referrerPolicy: ['same-origin'] } } });
    const res = await request(`${consoleUrl}/livez`);
    await res.body.dump();
    assert.equal(res.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['referrer-policy'], 'same-origin');
    assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin');
    assert.equal(res.headers['strict-transport-security'], undefined);
  });

  it('rejects hostile values at load, naming the field', () => {
    const route = (securityHeaders: unknown) => ({ gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: 'http://127.0.0.1:1', securityHeaders }] } });
    assert.match(configError(route({ contentSecurityPolicy: "default-src 'self'\r\nSet-Cookie: x=1" })), /contentSecurityPolicy/);
    assert.match(configError(route({ permissionsPolicy: 'camera=()\u00e9' })), /permissionsPolicy/);
    assert.match(configError(route({ strictTransportSecurity: { maxAge: '1d', preload: true } })), /preload/);
    assert.match(configError(route({ xFrameOptions: 'ALLOW-FROM https://x' })), /xFrameOptions/);
    assert.match(configError(route({ override: ['bad header'] })), /override/);
    assert.match(configError(route({ unknown: true })), /unknown/i);
  });
});
