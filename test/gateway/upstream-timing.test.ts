import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { freePort, startApp, startServer } from '../support/helpers.js';

/** `name{labels} value` lines of one metric family. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

interface Timing {
  route: string;
  status: number;
  durationMs: number;
  upstream: string | null;
  connectMs: number | null;
  ttfbMs: number | null;
  upstreamMs: number | null;
}

describe('upstream timing', () => {
  it('connect, first-byte and total histograms per route and target, and the breakdown on every access line', async () => {
    // Headers after 40 ms, the body 40 ms later: ttfb and total differ measurably.
    const upstream = await startServer((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('a');
        setTimeout(() => res.end('b'), 40);
      }, 40);
    });
    const refused = await freePort();
    const { gatewayUrl, consoleUrl, log } = await startApp({
      gateway: {
        routes: [
          { name: 'slow', prefix: '/slow/', upstream: upstream.url, auth: 'none' },
          { name: 'down', prefix: '/down/', upstream: `http://127.0.0.1:${refused}`, auth: 'none', upstreams: { retry: { attempts: 0 } } },
        ],
      },
    });
    for (let i = 0; i < 4; i++) assert.equal(await (await request(`${gatewayUrl}/slow/${i}`)).body.text(), 'ab');
    assert.equal((await request(`${gatewayUrl}/down/x`)).statusCode, 502);
    assert.equal((await request(`${gatewayUrl}/nowhere`)).statusCode, 404);

    const text = await (await request(`${consoleUrl}/metrics`)).body.text();
    const target = `route="slow",target="${upstream.url}"`;
    for (const name of ['vigil_gateway_upstream_connect_seconds', 'vigil_gateway_upstream_ttfb_seconds', 'vigil_gateway_upstream_duration_seconds']) {
      assert.equal(samples(text, `${name}_count`).get(`${name}_count{${target}}`), 4, `${name} counts every attempt`);
    }
    const sum = (name: string): number => samples(text, `${name}_sum`).get(`${name}_sum{${target}}`) ?? NaN;
    const connect = sum('vigil_gateway_upstream_connect_seconds');
    const ttfb = sum('vigil_gateway_upstream_ttfb_seconds');
    const total = sum('vigil_gateway_upstream_duration_seconds');
    assert.ok(connect >= 0 && connect <= ttfb, `connect ${connect} <= ttfb ${ttfb}`);
    assert.ok(ttfb >= 4 * 0.04 && ttfb < total, `ttfb ${ttfb} < total ${total}`);
    assert.ok(total >= 4 * 0.08, `total ${total}`);
    // A refused connection never got a socket: an attempt, a total time, no connect time (the series is there from the start, at 0).
    const downTarget = `route="down",target="http://127.0.0.1:${refused}"`;
    assert.equal(samples(text, 'vigil_gateway_upstream_duration_seconds_count').get(`vigil_gateway_upstream_duration_seconds_count{${downTarget}}`), 1);
    assert.equal(samples(text, 'vigil_gateway_upstream_connect_seconds_count').get(`vigil_gateway_upstream_connect_seconds_count{${downTarget}}`), 0);

    let lines: Timing[] = [];
    for (let i = 0; i < 100 && lines.length < 6; i++) {
      lines = log.records().filter((r) => r.msg === 'request').map((r) => r.access as Timing);
      if (lines.length < 6) await sleep(20);
    }
    assert.equal(lines.length, 6);
    for (const line of lines.filter((l) => l.route === 'slow')) {
      assert.equal(line.upstream, upstream.url);
      const { connectMs, ttfbMs, upstreamMs, durationMs } = line;
      assert.ok(connectMs !== null && ttfbMs !== null && upstreamMs !== null, JSON.stringify(line));
      assert.ok(connectMs <= ttfbMs && ttfbMs <= upstreamMs && upstreamMs <= durationMs, JSON.stringify(line));
      assert.ok(ttfbMs >= 40 && upstreamMs >= 80, JSON.stringify(line));
    }
    const down = lines.find((l) => l.route === 'down');
    assert.deepEqual([down?.status, down?.connectMs, down?.ttfbMs, typeof down?.upstreamMs], [502, null, null, 'number']);
    const none = lines.find((l) => l.status === 404);
    assert.deepEqual([none?.upstream, none?.connectMs, none?.ttfbMs, none?.upstreamMs], [null, null, null, null]);
  });
});
