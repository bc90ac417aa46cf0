import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coalescedEvents, get, okUpstream, startProtectedApp } from './limits-support.js';

/** `n` requests, `parallel` at a time; their status codes. */
async function flood(url: string, n: number, parallel = 10): Promise<number[]> {
  const out: number[] = [];
  for (let sent = 0; sent < n; sent += parallel) {
    const batch = Array.from({ length: Math.min(parallel, n - sent) }, () => get(url).then((r) => r.status));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

function limited(upstream: string) {
  return { name: 'api', prefix: '/api/', upstream, auth: 'none', rateLimits: { limits: [{ name: 'one', by: 'ip', limit: 1, window: '1h' }] } };
}

describe('coalesced protection rejections', () => {
  it('a flood of 1,000 refused requests from one address stores a handful of events that account for all of them', async () => {
    const upstream = await okUpstream();
    const { app, gatewayUrl } = await startProtectedApp({ gateway: { routes: [limited(upstream.url)] } });
    assert.equal((await get(`${gatewayUrl}/api/x`)).status, 200);
    const statuses = await flood(`${gatewayUrl}/api/x`, 1000);
    assert.equal(statuses.filter((s) => s === 429).length, 1000);
    const { events, total } = await coalescedEvents(app, 'ratelimit.exceeded');
    assert.ok(events.length <= 10, `${events.length} stored events`);
    assert.equal(total, 1000, 'stored events plus their suppressed counts');
    assert.ok(events.some((e) => Number(e.details.suppressed) > 0));
    assert.ok(events.every((e) => e.sourceIp === '127.0.0.1' && e.details.limit === 'one'));
    // The metric (and the bus, which ban scenarios and event alert rules read) counts every one.
    assert.match(await app.registry.metrics(), /vigil_security_events_total\{type="ratelimit\.exceeded",severity="medium"\} 1000\b/);
  });

  it('a ban scenario still counts every refusal: a fast flood is banned after capacity + 1 offences', async () => {
    const upstream = await okUpstream();
    const scenario = { name: 'flood', events: ['ratelimit.*'], capacity: 20, leak: '1m', banFor: '10m' };
    const { app, gatewayUrl } = await startProtectedApp({ bans: { scenarios: [scenario] }, gateway: { routes: [limited(upstream.url)] } });
    const url = `${gatewayUrl}/api/x`;
    assert.equal((await get(url)).status, 200);
    let refused = 0;
    let status = 429;
    while (status === 429 && refused < 200) {
      status = (await get(url)).status;
      if (status === 429) refused++;
    }
    assert.equal(status, 403, 'banned');
    // The 21st event overflows the bucket; the ban is stored asynchronously, so a few more may slip in.
    assert.ok(refused >= 21 && refused <= 25, `banned after ${refused} refusals`);
    const { events, total } = await coalescedEvents(app, 'ratelimit.exceeded');
    assert.equal(total, refused);
    assert.ok(events.length < refused);
  });
});
