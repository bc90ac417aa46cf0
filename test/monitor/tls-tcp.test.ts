import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { generate } from 'selfsigned';
import { tempDir } from '../support/helpers.js';
import { buildCheck, runOnce } from './support.js';

const DAY = 86_400_000;
const dir = tempDir();

interface Pems {
  key: string;
  cert: string;
}

async function issue(ca: Pems | undefined, opts: { dns?: string; from: number; to: number }): Promise<Pems> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: opts.dns ?? 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now + opts.from),
    notAfterDate: new Date(now + opts.to),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: opts.dns ?? 'localhost' }] }],
    ...(ca === undefined ? {} : { ca: { key: ca.key, cert: ca.cert } }),
  });
  return { key: pems.private, cert: pems.cert };
}

async function serve(pems: Pems): Promise<number> {
  const server = createTlsServer({ key: pems.key, cert: pems.cert }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => server.close());
  return (server.address() as AddressInfo).port;
}

describe('tls check', () => {
  let caFile = '';
  let ca: Pems;
  before(async () => {
    const pems = await generate([{ name: 'commonName', value: 'Vigil Test CA' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }],
    });
    ca = { key: pems.private, cert: pems.cert };
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, ca.cert);
  });

  const tls = (port: number, extra: Record<string, unknown> = {}) => buildCheck({ type: 'tls', host: '127.0.0.1', serverName: 'localhost', port, caFile, ...extra });

  it('is up for a valid chain and name, with the seconds to expiry as its value', async () => {
    const port = await serve(await issue(ca, { from: -DAY, to: 90 * DAY }));
    const outcome = await runOnce(tls(port, { conditions: ['[CERTIFICATE_EXPIRATION] > 48h'] }));
    assert.equal(outcome.status, 'up', outcome.detail);
    assert.match(outcome.detail, /^certificate valid for (89|90)d$/);
    assert.ok(outcome.value !== undefined && Math.abs(outcome.value - 90 * 86_400) < 120, `value ${outcome.value}`);
  });

  it('warns (still up) inside the warning window and is down inside the critical window', async () => {
    const warn = await runOnce(tls(await serve(await issue(ca, { from: -DAY, to: 20 * DAY + 3_600_000 }))));
    assert.deepEqual([warn.status, warn.detail], ['up', 'warning: certificate expires in 20d (warning under 30d)']);
    const crit = await runOnce(tls(await serve(await issue(ca, { from: -DAY, to: 3 * DAY + 3_600_000 }))));
    assert.deepEqual([crit.status, crit.detail], ['down', 'certificate expires in 3d (critical under 7d)']);
  });

  it('is down for an expired, a self-signed and a wrong-host certificate, saying which', async () => {
    const expired = await runOnce(tls(await serve(await issue(ca, { from: -30 * DAY, to: -2 * DAY - 3_600_000 }))));
    assert.deepEqual([expired.status, expired.detail], ['down', 'certificate expired 2d ago']);
    assert.ok(expired.value !== undefined && expired.value < 0);
    const selfSigned = await runOnce(tls(await serve(await issue(undefined, { from: -DAY, to: 90 * DAY }))));
    assert.deepEqual([selfSigned.status, selfSigned.detail], ['down', 'TLS certificate is self-signed (DEPTH_ZERO_SELF_SIGNED_CERT)']);
    const wrongHost = await runOnce(tls(await serve(await issue(ca, { dns: 'other.example', from: -DAY, to: 90 * DAY }))));
    assert.deepEqual([wrongHost.status, wrongHost.detail], ['down', 'certificate does not match host name localhost (ERR_TLS_CERT_ALTNAME_INVALID)']);
  });

  it('times out on a server that accepts TCP and never speaks TLS', async () => {
    const hung = createNetServer(() => undefined);
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    after(() => hung.close());
    const started = Date.now();
    const outcome = await runOnce(tls((hung.address() as AddressInfo).port, { timeout: 200 }));
    assert.deepEqual([outcome.status, outcome.detail], ['down', 'timed out after 200ms']);
    assert.ok(Date.now() - started < 1500);
  });

  it('refuses a caFile that cannot be read when the config loads', () => {
    assert.throws(() => tls(443, { caFile: '/nonexistent/ca.pem' }), /caFile \(line \d+\): file cannot be read \[VGL_CONFIG_INVALID\]/);
  });
});

describe('tcp check', () => {
  it('is up when the port accepts, down with a coded reason when refused', async () => {
    const server = createNetServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const up = await runOnce(buildCheck({ type: 'tcp', host: '127.0.0.1', port, conditions: ['[RESPONSE_TIME] < 1s'] }));
    assert.equal(up.status, 'up', up.detail);
    await new Promise((resolve) => server.close(resolve));
    const refused = await runOnce(buildCheck({ type: 'tcp', host: '127.0.0.1', port }));
    assert.deepEqual([refused.status, refused.detail], ['down', 'connection refused (ECONNREFUSED)']);
  });

  it('settles as cancelled when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const outcome = await runOnce(buildCheck({ type: 'tcp', host: '127.0.0.1', port: 9 }), controller.signal);
    assert.equal(outcome.status, 'down');
  });
});
