import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runVigil, vigilArgs } from '../support/cli.js';
import { startServer, tempDir } from '../support/helpers.js';
import { openTestVault, who } from './support.js';

const CANARY = 'canary-e2e-4d9c-Vault-Value-NEVER-LOGGED';

/**
 * The whole path with a real process: a vault secret referenced from the config is sent to a
 * receiver that rejects it and echoes it back; the failure is retried and logged at debug level.
 * The value must not appear in anything Vigil prints, nor in the audit export.
 */
it('a vault secret used by the running server never appears in its output', { timeout: 90_000 }, async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const v = await openTestVault({ dataDir });
  await v.secrets.set('HOOK_TOKEN', Buffer.from(CANARY), who);
  await v.store.close();
  let received = 0;
  const receiver = await startServer((req, res) => {
    received++;
    res.writeHead(401, { 'content-type': 'text/plain' }).end(`rejected token ${String(req.headers['x-token'])} for ${req.url}`);
  });
  const config = join(dir, 'vigil.yaml');
  writeFileSync(
    config,
    [
      `store: { dataDir: "${dataDir}" }`,
      'log: { level: debug }',
      'gateway: { listen: { port: 0 } }',
      'console: { listen: { port: 0 } }',
      'monitor: { checks: [{ name: c, type: http, url: "http://127.0.0.1:9/health", interval: 200ms, timeout: 100ms }] }',
      'alerting:',
      '  rules: [{ name: r, kind: checkDown, check: c, for: 0s, receivers: [hook] }]',
      `  receivers: [{ name: hook, type: webhook, url: "${receiver.url}/hook?token=\${secret:HOOK_TOKEN}", headers: { x-token: "\${secret:HOOK_TOKEN}" } }]`,
    ].join('\n'),
  );
  const child = spawn(process.execPath, vigilArgs('start', '--config', config), { stdio: ['ignore', 'pipe', 'pipe'] });
  after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (received < 1) {
    assert.ok(child.exitCode === null && Date.now() < deadline, `no delivery attempt:\n${output}`);
    await sleep(50);
  }
  await sleep(500);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, output);
  assert.match(output, /vigil started/);
  assert.ok(!output.includes(CANARY), output);

  const cli = (args: string[]) => runVigil([...args, '--config', config]);
  const exported = cli(['audit', 'export']);
  assert.equal(exported.status, 0, exported.stderr);
  assert.match(exported.stdout, /"action":"secrets.reveal","target":"HOOK_TOKEN"/);
  assert.ok(!(exported.stdout + exported.stderr).includes(CANARY));
  const checked = cli(['config', 'check']);
  assert.equal(checked.status, 0, checked.stderr);
  assert.ok(!(checked.stdout + checked.stderr).includes(CANARY));
});
