import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../../src/app.js';
import type { SecurityEvent, StoredSecurityEvent } from '../../src/store/records.js';
import { rawGet, startServer } from '../support/helpers.js';
import { addUser, errorCode, sessionCookie, startIdentityApp } from '../identity/support.js';
import { coalescedEvents, get, okUpstream, startProtectedApp } from './limits-support.js';


async function stored(app: App, count: number): Promise<StoredSecurityEvent[]> {
  let events = await app.store.securityEvents.query({ limit: 100 });
  for (let i = 0; i < 100 && events.length < count; i++) {
    await sleep(20);
    events = await app.store.securityEvents.query({ limit: 100 });
  }
  return events;
}

describe('security events from the protection stages', () => {
  it('records one typed event per rejection with route, client, correlation ID and PII-masked details; published, counted, and queryable by the admin API', async () => {
    const up = await startServer((_req, res) => res.end('ok'));
    const { app, clock, log } = await startIdentityApp({
      gateway: {
        listen: { port: 0 },
        routes: [
          { name: 'agents', prefix: '/agents/', upstream: up.url, auth: 'none', hygiene: { contentTypes: ['application/json'] } },
          { name: 'tools', prefix: '/tools/', upstream: up.url, auth: 'none' },
        ],
      },
    });
    const published: SecurityEvent[] = [];
    app.bus.on('security.event', (event) => published.push(event));
    const port = app.gateway.address().port;
    const t0 = clock.now();
    const answer = await rawGet(port, '/agents/users%00/alice.smith@example.com', 'corr-1');
    assert.match(answer, /^HTTP\/1\.1 400/);
    clock.advance(60_000);
    await rawGet(port, '/tools/x?q=%ff', 'corr-2');
    clock.advance(60_000);
    await rawGet(port, '/tools/a%5cb', 'corr-3');

    const events = await stored(app, 3);
    assert.equal(events.length, 3);
    const first = events.find((e) => e.correlationId === 'corr-1');
    assert.ok(first);
    assert.equal(first.type, 'hygiene.path_rejected');
    assert.equal(first.severity, 'medium');
    assert.equal(first.route, 'agents');
    assert.equal(first.sourceIp, '127.0.0.1');
    assert.equal(first.at, t0);
    assert.equal(first.details.code, 'VGL_GATEWAY_PATH_REJECTED');
    assert.equal(first.details.path, '/agents/users%00/[EMAIL]', 'the e-mail address in the path is masked before it is stored');
    assert.ok(!JSON.stringify(events).includes('alice.smith@example.com'));
    assert.ok(!log.text.includes('alice.smith@example.com'), 'nor logged');
    assert.equal(published.length, 3);
    assert.equal(published.find((e) => e.correlationId === 'corr-1')?.details.path, '/agents/users%00/[EMAIL]');
    const metrics = await app.registry.metrics();
    assert.match(metrics, /vigil_security_events_total\{type="hygiene\.path_rejected",severity="medium"\} 2/);
    assert.match(metrics, /vigil_security_events_total\{type="hygiene\.invalid_encoding",severity="medium"\} 1/);

    // The admin API: filters, time range, pagination, permission.
    const now = clock.now();
    const operator = await sessionCookie(app, await addUser(app, 'opal', 'operator', now), now);
    const developer = await sessionCookie(app, await addUser(app, 'dev', 'developer', now), now);
    const get = async (query: string, cookie = operator) => {
      const res = await app.console.app.inject({ method: 'GET', url: `/api/v1/security/events${query}`, headers: { cookie } });
      return { status: res.statusCode, body: res.body, json: JSON.parse(res.body) as { events: StoredSecurityEvent[]; nextCursor: number | null } };
    };
    assert.deepEqual((await get('?route=agents')).json.events.map((e) => e.correlationId), ['corr-1']);
    assert.deepEqual((await get('?type=hygiene.invalid_encoding')).json.events.map((e) => e.correlationId), ['corr-2']);
    assert.equal((await get('?severity=medium&ip=127.0.0.1')).json.events.length, 3);
    assert.equal((await get('?severity=critical')).json.events.length, 0);
    assert.equal((await get('?minSeverity=low')).json.events.length, 3);
    assert.equal((await get('?minSeverity=high')).json.events.length, 0);
    assert.equal((await get('?minSeverity=urgent')).status, 400);
    assert.deepEqual((await get(`?since=${new Date(t0 + 30_000).toISOString()}&until=${t0 + 90_000}`)).json.events.map((e) => e.correlationId), ['corr-2']);
    const page1 = await get('?limit=2');
    assert.deepEqual(page1.json.events.map((e) => e.correlationId), ['corr-3', 'corr-2']);
    assert.ok(page1.json.nextCursor);
    const page2 = await get(`?limit=2&cursor=${page1.json.nextCursor}`);
    assert.deepEqual(page2.json.events.map((e) => e.correlationId), ['corr-1']);
    assert.equal(page2.json.nextCursor, null);
    const bad = await get('?since=yesterday');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /since/);
    const forbidden = await get('', developer);
    assert.equal(forbidden.status, 403);
    assert.equal(errorCode(forbidden.body), 'VGL_CONSOLE_FORBIDDEN');
  });
  it('records path probing refused before routing (dot segments, non-absolute targets), coalesced, feeding bans; a 404 is no event', async () => {
    const upstream = await okUpstream();
    const scenario = { name: 'scanner', events: ['hygiene.*'], capacity: 5, leak: '1m', banFor: '1h' };
    const { app, gatewayUrl } = await startProtectedApp({ bans: { scenarios: [scenario] }, gateway: { routes: [{ name: 'api', prefix: '/api/', upstream: upstream.url, auth: 'none' }] } });
    const port = Number(new URL(gatewayUrl).port);
    assert.equal((await get(`${gatewayUrl}/nowhere`)).status, 404);
    const probes = ['/api/../etc/passwd', '/api/./x', '/..', 'http://evil.example/x', '*', '/a/%2e%2e/b'];
    for (const [i, target] of probes.entries()) assert.match(await rawGet(port, target, `probe-${i}`), /^HTTP\/1\.1 400/, target);
    const { events, total } = await coalescedEvents(app, 'hygiene.path_rejected');
    assert.equal(total, probes.length, 'every probe is counted');
    assert.ok(events.length < probes.length, 'and coalesced in the store');
    const first = events.find((e) => e.correlationId === 'probe-0');
    assert.equal(first?.route, null);
    assert.equal(first?.sourceIp, '127.0.0.1');
    assert.deepEqual(first?.details, { code: 'VGL_GATEWAY_BAD_REQUEST', method: 'GET', reason: 'a dot segment', path: '/api/../etc/passwd' });
    assert.equal(events.find((e) => e.details.suppressed !== undefined)?.details.reason, 'a dot segment');
    assert.equal((await app.store.securityEvents.query({ limit: 100 })).filter((e) => e.details.code === 'VGL_GATEWAY_NO_ROUTE').length, 0, 'a 404 is not a security event');
    // Six probes overflow a bucket of five: the scanner is banned from the routes too.
    assert.equal((await get(`${gatewayUrl}/api/x`)).code, 'VGL_BANNED');
  });
});
