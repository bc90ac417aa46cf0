import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { generate } from 'selfsigned';
import { startServer } from '../support/helpers.js';
import { buildCheck, runOnce } from './support.js';

describe('http check: request options and conditions', () => {
  it('sends the configured method, headers and body', async () => {
    let seen: { method?: string; header?: string; body?: string } = {};
    const { url } = await startServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen = { method: req.method, header: req.headers['x-probe'] as string, body };
        res.end('ok');
      });
    });
    const outcome = await runOnce(buildCheck({ type: 'http', url, method: 'POST', headers: { 'x-probe': 'yes' }, body: '{"ping":1}' }));
    assert.equal(outcome.status, 'up');
    assert.deepEqual(seen, { method: 'POST', header: 'yes', body: '{"ping":1}' });
  });

  it('judges body text, regexes, JSON paths and latency', async () => {
    const { url } = await startServer((req, res) => {
      if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 150);
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'healthy', data: { ok: true, workers: 3 } }));
    });
    const up = await runOnce(
      buildCheck({
        type: 'http',
        url,
        conditions: ['[STATUS] == 200', '[BODY] contains "healthy"', '[BODY] matches "\\"workers\\":[0-9]+"', '[BODY].data.ok == true', '[BODY].data.workers >= 2', '[RESPONSE_TIME] < 1s'],
      }),
    );
    assert.equal(up.status, 'up', up.detail);
    const wrongValue = await runOnce(buildCheck({ type: 'http', url, conditions: ['[BODY].data.workers > 5'] }));
    assert.deepEqual([wrongValue.status, wrongValue.detail], ['down', '[BODY].data.workers > 5 failed (got 3)']);
    const missing = await runOnce(buildCheck({ type: 'http', url, conditions: ['[BODY].data.queue.depth < 10'] }));
    assert.equal(missing.detail, '[BODY].data.queue.depth < 10 failed ([BODY].data.queue.depth is missing)');
    const slow = await runOnce(buildCheck({ type: 'http', url: `${url}/slow`, conditions: ['[RESPONSE_TIME] < 50ms'] }));
    assert.equal(slow.status, 'down');
    assert.match(slow.detail, /^\[RESPONSE_TIME\] < 50ms failed \(got \d+(\.\d+)?\)$/);
  });

  it('reads at most 64 KiB of a huge body and stays judged', async () => {
    const { url } = await startServer((_req, res) => {
      res.write('start ');
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const pump = (): void => {
        while (sent < 200 && res.write(chunk)) sent++;
        if (sent < 200) res.once('drain', pump);
        else res.end();
      };
      pump();
      res.on('error', () => undefined);
    });
    const outcome = await runOnce(buildCheck({ type: 'http', url, conditions: ['[BODY] contains "start"', '[BODY] !contains "end-marker"'] }));
    assert.equal(outcome.status, 'up', outcome.detail);
  });

  it('follows redirects only when asked', async () => {
    const { url } = await startServer((req, res) => {
      if (req.url === '/old') {
        res.writeHead(302, { location: '/new' });
        res.end();
      } else res.end('moved here');
    });
    const unfollowed = await runOnce(buildCheck({ type: 'http', url: `${url}/old` }));
    assert.equal(unfollowed.detail, 'status 302 not in [200]');
    const followed = await runOnce(buildCheck({ type: 'http', url: `${url}/old`, followRedirects: true, conditions: ['[BODY] contains "moved here"'] }));
    assert.equal(followed.status, 'up', followed.detail);
  });

  it('refuses a self-signed certificate unless tlsVerify is off', async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' });
    const server = createServer({ key: pems.private, cert: pems.cert }, (_req, res) => res.end('secure'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    after(() => server.close());
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const verified = await runOnce(buildCheck({ type: 'http', url }));
    assert.equal(verified.status, 'down');
    assert.match(verified.detail, /TLS certificate .*\(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
    const unverified = await runOnce(buildCheck({ type: 'http', url, tlsVerify: false }));
    assert.equal(unverified.status, 'up', unverified.detail);
  });
});

describe('json-metric check', () => {
  it('extracts a number, judges it, and reports it as the value', async () => {
    let credits: unknown = 42.5;
    const { url } = await startServer((_req, res) => res.end(JSON.stringify({ data: { credits } })));
    const check = buildCheck({ type: 'json-metric', url, path: 'data.credits', conditions: ['[VALUE] > 10'] });
    const up = await runOnce(check);
    assert.deepEqual({ ...up, latencyMs: 0 }, { status: 'up', latencyMs: 0, detail: 'data.credits = 42.5', value: 42.5 });
    credits = '3';
    const low = await runOnce(check);
    assert.deepEqual([low.status, low.detail, low.value], ['down', '[VALUE] > 10 failed (got 3)', 3]);
    credits = 'plenty';
    assert.equal((await runOnce(check)).detail, 'value at data.credits is not a number');
  });

  it('is down with a clear reason when the path is missing, the body is not JSON, or the status is an error', async () => {
    let mode = 'missing';
    const { url } = await startServer((_req, res) => {
      if (mode === 'missing') res.end('{"data":{}}');
      else if (mode === 'text') res.end('<html>maintenance</html>');
      else {
        res.statusCode = 500;
        res.end('{}');
      }
    });
    const check = buildCheck({ type: 'json-metric', url, path: 'data.credits' });
    assert.equal((await runOnce(check)).detail, 'no value at data.credits');
    mode = 'text';
    assert.equal((await runOnce(check)).detail, 'response is not JSON');
    mode = 'error';
    assert.equal((await runOnce(check)).detail, 'status 500 not 2xx');
  });
});
