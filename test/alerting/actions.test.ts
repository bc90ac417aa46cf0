import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import { ActionRunner } from '../../src/alerting/actions.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { ManualClock, startApp, startServer, tempDir, waitFor } from '../support/helpers.js';
import { quietLogger, startEngine, testConfig } from './support.js';

async function setup(actions: Record<string, unknown>[], killGraceMs = 2000) {
  const clock = new ManualClock();
  const store = openSqliteStore(tempDir());
  const registry = new Registry();
  const load = new Gauge({ name: 'test_load', help: 'x', registers: [registry] });
  const audit = new AuditLog(store.audit, () => Promise.resolve(randomBytes(32)), { failClosed: true, checkpointEvery: 1000 }, quietLogger());
  const runner = new ActionRunner({ runs: store.alertActions, audit, clock, logger: quietLogger(), killGraceMs });
  const config = testConfig({ alerting: { rules: [{ name: 'load', kind: 'threshold', metric: 'test_load', warning: 10, actions }] } });
  const { engine } = await startEngine(config, { clock, registry, store, actions: runner });
  const flip = async (value: number) => {
    load.set(value);
    clock.advance(1000);
    await engine.evaluateNow();
    await runner.settled();
  };
  return { store, runner, flip, clock };
}

async function auditTrail(store: Store): Promise<string[]> {
  return (await store.audit.page(0, 100)).filter((e) => e.action === 'alerts.action').map((e) => e.result);
}

describe('rule actions', () => {
  it('runs a command without a shell, with the alert in its arguments and environment but not Vigil secrets; recorded and audited', async () => {
    const out = join(tempDir(), 'out.json');
    process.env.VIGIL_TEST_ACTION_SECRET = 'do-not-pass-me';
    const script = `require('node:fs').writeFileSync(process.argv[1], JSON.stringify({ arg: process.argv[2], id: process.env.VIGIL_ALERT_ID, value: process.env.VIGIL_ALERT_VALUE, secret: process.env.VIGIL_TEST_ACTION_SECRET ?? null }))`;
    const { store, flip } = await setup([{ type: 'command', argv: [process.execPath, '-e', script, out, 'rule={{ $labels.rule }}; $(rm -rf /)'] }]);
    await flip(12);
    delete process.env.VIGIL_TEST_ACTION_SECRET;
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), { arg: 'rule=load; $(rm -rf /)', id: 'load', value: '12', secret: null });
    const [run] = await store.alertActions.recent(10);
    assert.equal(run?.outcome, 'succeeded');
    assert.equal(run?.detail, 'exit 0');
    assert.deepEqual(await auditTrail(store), ['requested', 'success']);
  });

  it('runs at most maxRuns per window (the auto-restart 3x): the rest are recorded as skipped and audited as denied', async () => {
    const { store, flip, clock } = await setup([{ type: 'command', argv: ['true'], maxRuns: 2, per: '1h' }]);
    for (let i = 0; i < 3; i++) {
      await flip(12);
      await flip(0);
    }
    const outcomes = (await store.alertActions.recent(10)).map((r) => r.outcome).reverse();
    assert.deepEqual(outcomes, ['succeeded', 'succeeded', 'skipped']);
    assert.deepEqual(await auditTrail(store), ['requested', 'success', 'requested', 'success', 'denied']);
    clock.advance(3_600_000);
    await flip(12);
    assert.equal((await store.alertActions.recent(1))[0]?.outcome, 'succeeded', 'a new window allows runs again');
  });

  it('kills the whole process group of a command that outlives its timeout', async () => {
    const pidFile = join(tempDir(), 'grandchild.pid');
    const { store, flip } = await setup([{ type: 'command', shell: true, argv: [`sleep 30 & echo $! > ${pidFile}; wait`], timeout: '300ms' }], 200);
    await flip(12);
    const [run] = await store.alertActions.recent(1);
    assert.equal(run?.outcome, 'timeout');
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => {
      try {
        process.kill(grandchild, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the grandchild to be gone');
    assert.deepEqual(await auditTrail(store), ['requested', 'failure']);
  });

  it('records a command that cannot start as failed', async () => {
    const { store, flip } = await setup([{ type: 'command', argv: ['/nonexistent/restart-agent'] }]);
    await flip(12);
    const [run] = await store.alertActions.recent(1);
    assert.equal(run?.outcome, 'failed');
    assert.equal(run?.detail, 'cannot start /nonexistent/restart-agent: ENOENT');
    assert.equal(existsSync('/nonexistent'), false);
  });

  it('calls a webhook with the alert and the configured headers', async () => {
    const received: { auth: string | undefined; body: { alert: { id: string; state: string } } }[] = [];
    const hook = await startServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ auth: req.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString()) as { alert: { id: string; state: string } } });
        res.end();
      });
    });
    const { store, flip } = await setup([{ type: 'webhook', url: `${hook.url}/restart`, headers: { authorization: 'Bearer t0k3n' } }]);
    await flip(12);
    assert.equal(received.length, 1);
    assert.equal(received[0]?.auth, 'Bearer t0k3n');
    assert.equal(received[0]?.body.alert.id, 'load');
    assert.equal(received[0]?.body.alert.state, 'firing');
    const [run] = await store.alertActions.recent(1);
    assert.deepEqual([run?.outcome, run?.detail], ['succeeded', 'HTTP 200']);
  });

  it('switches a gateway route to its fallback targets while the alert fires, and back when it resolves', async () => {
    let healthy = false;
    const health = await startServer((_req, res) => {
      res.statusCode = healthy ? 200 : 503;
      res.end();
    });
    const primary = await startServer((_req, res) => res.end('primary'));
    const fallback = await startServer((_req, res) => res.end('fallback'));
    const { app, gatewayUrl } = await startApp({
      gateway: { routes: [{ name: 'agents', prefix: '/agents', auth: 'none', upstreams: { targets: [{ url: primary.url }, { url: fallback.url, fallback: true }] } }] },
      monitor: { checks: [{ name: 'agent-health', type: 'http', url: health.url, interval: 50, timeout: 40 }] },
      alerting: { rules: [{ name: 'agent-down', kind: 'checkState', check: 'agent-health', actions: [{ type: 'routeFallback', route: 'agents' }] }] },
    });
    const served = async () => (await fetch(`${gatewayUrl}/agents/run`)).text();
    await waitFor(async () => (await app.store.alertActions.recent(1))[0]?.outcome === 'succeeded', 'the switch to the fallback');
    assert.equal(await served(), 'fallback');
    healthy = true;
    await waitFor(async () => (await app.store.alertActions.recent(1))[0]?.detail === 'route agents back on its primary targets', 'the switch back');
    assert.equal(await served(), 'primary');
    const audited = (await app.store.audit.page(0, 1000)).filter((e) => e.action === 'alerts.action').map((e) => e.result);
    assert.deepEqual(audited, ['requested', 'success', 'requested', 'success']);
  });
});
