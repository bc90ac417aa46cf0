import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { parseConfig } from '../../src/config/load.js';
import { startApp, startServer } from '../support/helpers.js';

/** A real upstream whose health endpoint answers `state.health`; counts probes per path. */
async function upstream(name: string) {
  const state = { health: 200, probes: new Map<string, number>() };
  const { url } = await startServer((req, res) => {
    const path = req.url ?? '';
    if (path.startsWith('/health') || path.startsWith('/ready')) {
      state.probes.set(path, (state.probes.get(path) ?? 0) + 1);
      res.statusCode = state.health;
      res.end(state.health === 200 ? '{"ok":true}' : 'down');
      return;
    }
    res.end(name);
  });
  return { url, state, probes: (path: string) => state.probes.get(path) ?? 0 };
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, `timed out waiting for: ${what}`);
    await sleep(25);
  }
}

async function bodies(url: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await (await request(url)).body.text());
  return out;
}

// A probe that outlives its timeout counts as failed: a timeout well above what a loaded machine's
// stalls can add to a loopback round trip, so that only the answers the tests set decide the verdict.
const healthCheck = { path: '/health', interval: '1s', timeout: '1s', healthyThreshold: 2, unhealthyThreshold: 2 };

describe('active health checks', () => {
  it('takes a failing target out of balancing and puts it back after passing probes, with a gauge per target', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const { gatewayUrl, consoleUrl, log } = await startApp({
      gateway: {
        routes: [{ name: 'r', prefix: '/r/', auth: 'none', upstreams: { targets: [{ url: a.url }, { url: b.url }] }, healthCheck }],
      },
    });
    const gauge = async (target: string): Promise<string | undefined> => {
      const text = await (await request(`${consoleUrl}/metrics`)).body.text();
      return text.split('\n').find((l) => l.startsWith(`vigil_gateway_upstream_healthy{route="r",target="${target}"}`))?.split(' ')[1];
    };
    await until('both targets probed', () => a.probes('/health') > 0 && b.probes('/health') > 0);
    assert.deepEqual(new Set(await bodies(`${gatewayUrl}/r/x`, 6)), new Set(['a', 'b']));
    assert.equal(await gauge(b.url), '1');

    b.state.health = 503;
    await until('b out', async () => (await gauge(b.url)) === '0');
    assert.deepEqual(new Set(await bodies(`${gatewayUrl}/r/x`, 8)), new Set(['a']), 'an unhealthy target gets no requests');
    assert.match(log.text, /VGL_GATEWAY_TARGET_UNHEALTHY/);
    assert.match(log.text, /status 503 not in \[200\]/);

    b.state.health = 200;
    await until('b back', async () => (await gauge(b.url)) === '1');
    assert.ok((await bodies(`${gatewayUrl}/r/x`, 6)).includes('b'), 'back in balancing');
    assert.match(log.text, /back in balancing/);

    // Every target out: 503 coded, and nothing reaches the upstreams.
    a.state.health = 503;
    b.state.health = 503;
    await until('both out', async () => (await gauge(a.url)) === '0' && (await gauge(b.url)) === '0');
    const res = await request(`${gatewayUrl}/r/x`);
    assert.equal(res.statusCode, 503);
    assert.match(await res.body.text(), /VGL_GATEWAY_NO_HEALTHY_TARGET/);
  });

  it('conditions on the body count, no probes without healthCheck, and reload replaces or removes the checkers', async () => {
    const a = await upstream('a');
    const plain = await upstream('plain');
    type Check = Record<string, unknown> | undefined;
    const routes = (check: Check, plainCheck?: Check) => [
      { name: 'checked', prefix: '/c/', auth: 'none', upstream: a.url, ...(check && { healthCheck: check }) },
      { name: 'plain', prefix: '/p/', auth: 'none', upstream: plain.url, ...(plainCheck && { healthCheck: plainCheck }) },
    ];
    const { app, gatewayUrl, dataDir } = await startApp({ gateway: { routes: routes({ ...healthCheck, conditions: ['[BODY].ok == true'] }) } });
    const reload = (check: Check, plainCheck?: Check) =>
      app.reloadRoutes(parseConfig(JSON.stringify({ gateway: { listen: { port: 0 }, routes: routes(check, plainCheck) }, console: { listen: { port: 0 } }, store: { dataDir } }), 'r.yaml', {}));
    await until('probed', () => a.probes('/health') >= 2);
    assert.equal(await (await request(`${gatewayUrl}/c/x`)).body.text(), 'a');
    assert.equal(await (await request(`${gatewayUrl}/p/x`)).body.text(), 'plain');
    assert.equal(plain.state.probes.size, 0, 'a route without healthCheck is never probed');

    // The same config again keeps the running checker (and its verdict); a new path replaces it.
    a.state.health = 503;
    await until('out', async () => (await request(`${gatewayUrl}/c/x`)).statusCode === 503);
    await reload({ ...healthCheck, conditions: ['[BODY].ok == true'] });
    assert.equal((await request(`${gatewayUrl}/c/x`)).statusCode, 503, 'an unchanged checker keeps its verdict across a reload');
    // The new checker's probes measure the time: a replaced checker still running would probe as
    // often (at least twice while the new one probes four times); one probe may have been in flight.
    await reload({ ...healthCheck, path: '/ready' });
    const before = a.probes('/health');
    await until('new path probed', () => a.probes('/ready') >= 4);
    assert.ok(a.probes('/health') <= before + 1, `the replaced checker stopped (${a.probes('/health') - before} probes after the reload)`);

    // Without healthCheck the target is in balancing again and nobody probes it; a check moved to
    // the other route measures the time.
    await reload(undefined, healthCheck);
    assert.equal(await (await request(`${gatewayUrl}/c/x`)).body.text(), 'a');
    const probes = a.probes('/ready') + a.probes('/health');
    await until('the other route probed', () => plain.probes('/health') >= 3);
    assert.equal(a.probes('/ready') + a.probes('/health'), probes, 'no probes once healthCheck is removed');
  });

  it('refuses a timeout longer than the interval', () => {
    assert.throws(
      () => parseConfig(JSON.stringify({ gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: 'http://127.0.0.1:1', healthCheck: { path: '/h', interval: '1s', timeout: '2s' } }] } }), 'h.yaml', {}),
      /gateway\.routes\[0\]\.healthCheck\.timeout \(line 1\): timeout must not exceed interval/,
    );
  });
});
