import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, describe, it } from 'node:test';
import { request } from 'undici';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { isVigilError } from '../../src/core/errors.js';
import { startApp, tempDir } from '../support/helpers.js';

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with the real openssl. */
function makePki(dir: string): Record<'ca' | 'caKey' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const path = (name: string): string => join(dir, name);
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path('ca.key'), '-out', path('ca.pem'), '-days', '2', '-subj', '/CN=Vigil Test CA');
  writeFileSync(path('server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  writeFileSync(path('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, subject] of [['server', '/CN=127.0.0.1'], ['client', '/CN=vigil-gateway']] as const) {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', subject);
    ssl('x509', '-req', '-in', path(`${name}.csr`), '-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-CAcreateserial', '-out', path(`${name}.pem`), '-days', '2', '-extfile', path(`${name}.ext`));
    chmodSync(path(`${name}.key`), 0o600);
  }
  return { ca: path('ca.pem'), caKey: path('ca.key'), serverCert: path('server.pem'), serverKey: path('server.key'), clientCert: path('client.pem'), clientKey: path('client.key') };
}

describe('gateway HTTPS upstreams', () => {
  it('verifies the upstream against a custom CA and presents a client certificate (mTLS)', async () => {
    const pki = makePki(tempDir());
    const clients: string[] = [];
    const server = createServer(
      { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey), ca: readFileSync(pki.ca), requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        clients.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
        res.end('secure');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    after(() => {
      server.closeAllConnections();
      server.close();
    });
    const upstream = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { gatewayUrl } = await startApp({
      gateway: {
        routes: [
          { name: 'mtls', prefix: '/mtls/', upstream, auth: 'none', upstreamTls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } },
          { name: 'nocert', prefix: '/nocert/', upstream, auth: 'none', upstreamTls: { ca: pki.ca } },
          { name: 'noca', prefix: '/noca/', upstream, auth: 'none', upstreams: { retry: { attempts: 0 } } },
        ],
      },
    });
    const ok = await request(`${gatewayUrl}/mtls/x`);
    assert.equal(ok.statusCode, 200);
    assert.equal(await ok.body.text(), 'secure');
    assert.deepEqual(clients, ['vigil-gateway']);
    for (const path of ['/nocert/x', '/noca/x']) {
      const refused = await request(`${gatewayUrl}${path}`);
      assert.equal(refused.statusCode, 502, path);
      assert.equal(((await refused.body.json()) as { error: { code: string } }).error.code, 'VGL_GATEWAY_UPSTREAM_UNREACHABLE');
    }
    assert.equal(clients.length, 1, 'nothing reached the upstream without a trusted handshake');
  });

  it('refuses to start with a client key readable by others, a missing file, or cert without key', () => {
    const dir = tempDir();
    const pki = makePki(dir);
    const start = (upstreamTls: Record<string, string>): unknown => {
      try {
        const loaded = parseConfig(
          JSON.stringify({ store: { dataDir: join(dir, 'data') }, gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: 'https://127.0.0.1:1', upstreamTls }] } }),
          't.yaml',
          {},
        );
        const app = new App(loaded, {});
        void app.stop();
        return undefined;
      } catch (err) {
        return err;
      }
    };
    chmodSync(pki.clientKey, 0o644);
    const open = start({ cert: pki.clientCert, key: pki.clientKey });
    assert.ok(isVigilError(open) && open.code === 'VGL_GATEWAY_TLS_FILE', String(open));
    assert.match((open as Error).message, /readable by group or others/);
    const missing = start({ ca: join(dir, 'nope.pem') });
    assert.ok(isVigilError(missing) && missing.code === 'VGL_GATEWAY_TLS_FILE' && /ENOENT/.test(missing.message), String(missing));
    const notPem = start({ ca: join(dir, 'server.ext') });
    assert.ok(isVigilError(notPem) && /not PEM/.test(notPem.message), String(notPem));
    const half = start({ cert: pki.clientCert });
    assert.ok(isVigilError(half) && half.code === 'VGL_CONFIG_INVALID' && half.message.includes('gateway.routes[0].upstreamTls.key'), String(half));
  });
});
