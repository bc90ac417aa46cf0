import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { startApp, startServer } from '../support/helpers.js';

function appWith(upstream: string, timeouts: Record<string, string>) {
  return startApp({ gateway: { routes: [{ name: 'r', prefix: '/r/', upstream, auth: 'none', timeouts }] } });
}

/** Resolves when the upstream sees its response closed (the gateway cut the exchange). */
function closedPromise(): { closed: Promise<number>; watch: (res: ServerResponse) => void } {
  let resolve: (at: number) => void = () => undefined;
  const closed = new Promise<number>((r) => (resolve = r));
  return { closed, watch: (res) => res.on('close', () => resolve(Date.now())) };
}

async function errorCode(res: Awaited<ReturnType<typeof request>>): Promise<string> {
  return ((await res.body.json()) as { error: { code: string } }).error.code;
}

describe('gateway upstream timeouts', () => {
  it('504 when the upstream sends no headers within the response (time-to-first-byte) timeout', async () => {
    const { url } = await startServer(() => undefined);
    const { gatewayUrl } = await appWith(url, { response: '200ms' });
    const started = Date.now();
    const res = await request(`${gatewayUrl}/r/slow`);
    assert.equal(res.statusCode, 504);
    assert.equal(await errorCode(res), 'VGL_GATEWAY_UPSTREAM_TIMEOUT');
    assert.ok(Date.now() - started < 2000);
  });

  it('cuts a stream that pauses longer than the idle timeout', async () => {
    const upstreamClose = closedPromise();
    const { url } = await startServer((_req, res) => {
      upstreamClose.watch(res);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n'); // then silence
    });
    const { gatewayUrl } = await appWith(url, { idle: '300ms' });
    const started = Date.now();
    const res = await request(`${gatewayUrl}/r/stream`);
    assert.equal(res.statusCode, 200);
    const received: string[] = [];
    await assert.rejects(async () => {
      for await (const chunk of res.body) received.push(String(chunk));
    });
    assert.deepEqual(received, ['data: 1\n\n']);
    const cutAt = await upstreamClose.closed;
    assert.ok(cutAt - started >= 250 && cutAt - started < 3000, `cut after ${cutAt - started} ms`);
  });

  it('ends an exchange that exceeds the total timeout even while the upstream keeps sending', async () => {
    const upstreamClose = closedPromise();
    const { url } = await startServer((_req, res) => {
      upstreamClose.watch(res);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const tick = setInterval(() => res.write('data: tick\n\n'), 50);
      res.on('close', () => clearInterval(tick));
    });
    const { gatewayUrl } = await appWith(url, { total: '400ms', idle: '10s' });
    const started = Date.now();
    const res = await request(`${gatewayUrl}/r/stream`);
    assert.equal(res.statusCode, 200);
    await assert.rejects(async () => {
      for await (const chunk of res.body) void chunk;
    });
    const cutAt = await upstreamClose.closed;
    assert.ok(cutAt - started >= 350 && cutAt - started < 3000, `cut after ${cutAt - started} ms`);
  });

  it('504 when the headers arrive after the total timeout', async () => {
    const { url } = await startServer((_req, res) => {
      setTimeout(() => res.end('late'), 500).unref();
    });
    const { gatewayUrl } = await appWith(url, { total: '200ms', response: '10s' });
    const res = await request(`${gatewayUrl}/r/late`);
    assert.equal(res.statusCode, 504);
    assert.equal(await errorCode(res), 'VGL_GATEWAY_UPSTREAM_TIMEOUT');
  });
});
