import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StoredSecurityEvent } from '../../src/store/records.js';
import { cliWorkspace } from '../support/cli.js';
import { rawGet, startApp, startServer } from '../support/helpers.js';


interface Page {
  events: StoredSecurityEvent[];
  nextCursor: number | null;
}

describe('vigil events list', () => {
  // Each CLI run starts tsx (seconds on a loaded machine): the filters share one run each, bad input is checked before the store opens.
  it('lists the events a running gateway stored, with the admin API filters, pages, --json and coded errors naming the argument', async () => {
    const { dataDir, vigil } = cliWorkspace();
    const up = await startServer((_req, res) => res.end('ok'));
    const { app } = await startApp({
      store: { dataDir },
      gateway: { routes: [{ name: 'agents', prefix: '/agents/', upstream: up.url, auth: 'none' }] },
    });
    const port = app.gateway.address().port;
    assert.match(await rawGet(port, '/agents/a%00b', 'corr-path'), /^HTTP\/1\.1 400/);
    assert.match(await rawGet(port, '/agents/x?q=%ff', 'corr-enc'), /^HTTP\/1\.1 400/);
    // Two older events through the same recorder the gateway uses: a high one and a critical one whose identity carries a terminal escape.
    const t0 = Date.UTC(2026, 0, 1);
    await app.identity.events.record({ at: t0, type: 'auth.ip_locked', severity: 'high', sourceIp: '203.0.113.7', identity: null, correlationId: 'corr-lock', route: null, details: { failures: 20 } });
    await app.identity.events.record({ at: t0 + 60_000, type: 'auth.login_failed', severity: 'critical', sourceIp: '203.0.113.8', identity: 'eve\u001b[2J', correlationId: 'corr-esc', route: 'console:/api/v1/auth/login', details: {} });
    for (let i = 0; i < 100 && (await app.store.securityEvents.query({ limit: 10 })).length < 4; i++) await sleep(20);

    const list = (...args: string[]): Page => {
      const r = vigil(['events', 'list', '--json', ...args]);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as Page;
    };
    const ids = (page: Page) => page.events.map((e) => e.correlationId);

    const all = list();
    assert.deepEqual(ids(all), ['corr-esc', 'corr-lock', 'corr-enc', 'corr-path'], 'newest first');
    assert.equal(all.nextCursor, null);
    const path = all.events[3];
    assert.equal(path?.type, 'hygiene.path_rejected');
    assert.equal(path?.route, 'agents');
    assert.equal(path?.sourceIp, '127.0.0.1');
    assert.equal(path?.details.code, 'VGL_GATEWAY_PATH_REJECTED');

    assert.deepEqual(ids(list('--type', 'hygiene.invalid_encoding')), ['corr-enc']);
    assert.deepEqual(ids(list('--min-severity', 'high')), ['corr-esc', 'corr-lock']);
    assert.deepEqual(ids(list('--severity', 'medium', '--ip', '127.0.0.1', '--route', 'agents')), ['corr-enc', 'corr-path']);
    assert.deepEqual(ids(list('--since', new Date(t0).toISOString(), '--until', String(t0 + 60_000))), ['corr-lock'], 'since inclusive, until exclusive');
    assert.deepEqual(ids(list('--since', '1h')), ['corr-enc', 'corr-path'], 'a duration means that long ago');
    const page1 = list('--limit', '3');
    assert.deepEqual(ids(page1), ['corr-esc', 'corr-lock', 'corr-enc']);
    assert.equal(page1.nextCursor, page1.events[2]?.id);
    const page2 = list('--limit', '3', '--cursor', String(page1.nextCursor));
    assert.deepEqual(ids(page2), ['corr-path']);
    assert.equal(page2.nextCursor, null);

    // The table: a header, one line per event, the attacker's escape sequence printed inert, the next page on stderr.
    const table = vigil(['events', 'list', '--limit', '2']);
    assert.equal(table.status, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^ID +TIME +SEVERITY +TYPE +SOURCE IP +ROUTE +IDENTITY +REQUEST ID +DETAILS$/);
    assert.equal(lines.length, 3);
    assert.match(lines[1] ?? '', /2026-01-01T00:01:00\.000Z +critical +auth\.login_failed +203\.0\.113\.8 +console:\/api\/v1\/auth\/login +eve\\u001b\[2J +corr-esc/);
    assert.ok(!table.stdout.includes('\u001b'), 'no raw escape reaches the terminal');
    assert.match(lines[2] ?? '', /high +auth\.ip_locked +203\.0\.113\.7 +- +- +corr-lock +\{"failures":20\}/);
    assert.match(table.stderr, /^more: --cursor \d+$/m);

    for (const [args, name] of [
      [['--severity', 'urgent'], '--severity'],
      [['--min-severity', 'HIGH'], '--min-severity'],
      [['--since', 'yesterday'], '--since'],
      [['--until', '2026-13-45T99:00:00Z'], '--until'],
      [['--limit', '-5'], '--limit'],
      [['--limit', '0'], '--limit'],
      [['--limit', '1001'], '--limit'],
      [['--limit', '99999999999999999999'], '--limit'],
      [['--cursor', 'abc'], '--cursor'],
      [['--cursor', '0'], '--cursor'],
    ] as const) {
      const r = vigil(['events', 'list', ...args]);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, new RegExp(`^error VGL_CLI_USAGE: ${name}: `), args.join(' '));
      assert.equal(r.stdout, '');
    }
  });
});
