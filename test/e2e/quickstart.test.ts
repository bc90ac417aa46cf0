import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { runVigil, vigilArgs } from '../support/cli.js';
import { tempDir } from '../support/helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CONFIG = join(ROOT, 'examples/quickstart.yaml');

/**
 * examples/quickstart.yaml exactly as shipped, on its fixed ports: gateway 8080, console 9090, agent
 * 7001, webhook 7002. Run with the real CLI, as the README tells a newcomer to.
 */
it('the quick-start example behaves as documented', { timeout: 60_000 }, async () => {
  const env = { ...process.env, VIGIL_DATA_DIR: join(tempDir(), 'data') };
  let healthy = true;
  const agent = createServer((req, res) => {
    if (req.url === '/health') res.writeHead(healthy ? 200 : 503).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
  });
  const hooks: { version: number; status: string; alerts: { severity: string; rule: string }[] }[] = [];
  const webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      hooks.push(JSON.parse(body) as (typeof hooks)[number]);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => agent.listen(7001, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => webhook.listen(7002, '127.0.0.1', resolve));
  after(() => {
    agent.closeAllConnections();
    agent.close();
    webhook.close();
  });

  const created = runVigil(['keys', 'create', '--config', CONFIG, '--name', 'demo'], { env });
  assert.equal(created.status, 0, created.stderr);
  const key = created.stdout.trim();

  const vigil = spawn(process.execPath, vigilArgs('start', '--config', CONFIG), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  vigil.stdout.on('data', (d: Buffer) => (out += d.toString()));
  vigil.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => vigil.on('exit', resolve));
  after(() => void (vigil.exitCode === null && vigil.kill('SIGKILL')));
  while (!out.includes('vigil started')) {
    assert.equal(vigil.exitCode, null, out);
    await sleep(50);
  }

  const denied = await request('http://127.0.0.1:8080/agents/chat');
  assert.equal(denied.statusCode, 401);
  await denied.body.dump();
  const ok = await request('http://127.0.0.1:8080/agents/chat?q=1', { headers: { authorization: `Bearer ${key}` } });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(await ok.body.json(), { path: '/chat?q=1' }, 'prefix stripped');

  // The check runs every 2 s; the alert fires once the agent has been down for 6 s.
  await sleep(2500);
  const health = await request('http://127.0.0.1:9090/healthz');
  assert.equal(health.statusCode, 200);
  await health.body.dump();
  healthy = false;
  const downSince = Date.now();
  while (hooks.length === 0 && Date.now() - downSince < 15_000) await sleep(100);
  const firedAfter = Date.now() - downSince;
  assert.deepEqual(hooks.map((h) => [h.version, h.status, h.alerts.map((a) => [a.rule, a.severity])]), [[2, 'firing', [['agent-down', 'critical']]]]);
  assert.ok(firedAfter >= 6000 && firedAfter < 10_500, `fired after ${firedAfter} ms`);
  const degraded = await request('http://127.0.0.1:9090/healthz');
  assert.equal(degraded.statusCode, 503);
  await degraded.body.dump();

  healthy = true;
  while (hooks.length < 2 && Date.now() - downSince < 30_000) await sleep(100);
  assert.equal(hooks[1]?.status, 'resolved');

  vigil.kill('SIGTERM');
  assert.equal(await exited, 0);
});
