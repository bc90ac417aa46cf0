import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { startApp, startServer, tempDir } from '../support/helpers.js';

/** A self-signed certificate for 127.0.0.1, made with the real openssl; returns its fingerprint. */
function selfSigned(dir: string, name: string): { cert: string; key: string; fingerprint: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  chmodSync(key, 0o600);
  return { cert, key, fingerprint: new X509Certificate(readFileSync(cert)).fingerprint256 };
}

/** The fingerprint of the certificate a new TLS connection to `port` is served. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('gateway HTTPS listener', () => {
  it('serves HTTPS, tells the upstream the proto, and swaps a replaced certificate without a restart', { timeout: 30_000 }, async () => {
    const dir = tempDir();
    const first = selfSigned(dir, 'first');
    const second = selfSigned(dir, 'second');
    const live = { cert: join(dir, 'live.pem'), key: join(dir, 'live.key') };
    writeFileSync(live.cert, readFileSync(first.cert));
    writeFileSync(live.key, readFileSync(first.key), { mode: 0o600 });
    const seen: IncomingHttpHeaders[] = [];
    const { url } = await startServer((req, res) => {
      seen.push(req.headers);
      res.end('over tls');
    });
    const { app, log } = await startApp({ gateway: { tls: live, routes: [{ name: 'r', prefix: '/r/', upstream: url, auth: 'none' }] } });
    const port = app.gateway.address().port;
    const agent = new Agent({ connect: { ca: readFileSync(first.cert) } });
    const res = await request(`https://127.0.0.1:${port}/r/x`, { dispatcher: agent });
    assert.equal(await res.body.text(), 'over tls');
    await agent.close();
    assert.equal(seen[0]?.['x-forwarded-proto'], 'https');
    assert.match(String(seen[0]?.forwarded), /proto=https/);
    assert.equal(await servedFingerprint(port), first.fingerprint);

    // A broken replacement (garbage key) is refused; the current certificate stays.
    writeFileSync(join(dir, 'bad.key'), 'not a key', { mode: 0o600 });
    renameSync(join(dir, 'bad.key'), live.key);
    for (let i = 0; i < 60 && !log.text.includes('not reloaded'); i++) await sleep(100);
    assert.match(log.text, /VGL_GATEWAY_TLS_FILE/);
    assert.equal(await servedFingerprint(port), first.fingerprint);

    // Replaced by rename, as certificate tools do.
    writeFileSync(join(dir, 'next.pem'), readFileSync(second.cert));
    writeFileSync(join(dir, 'next.key'), readFileSync(second.key), { mode: 0o600 });
    renameSync(join(dir, 'next.key'), live.key);
    renameSync(join(dir, 'next.pem'), live.cert);
    let served = '';
    for (let i = 0; i < 60 && served !== second.fingerprint; i++) {
      await sleep(100);
      served = await servedFingerprint(port);
    }
    assert.equal(served, second.fingerprint);
    assert.ok(!log.text.includes('BEGIN'), 'no key or certificate material in the log');
  });
});
