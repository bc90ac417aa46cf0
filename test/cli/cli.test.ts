import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { runVigil, vigilArgs } from '../support/cli.js';
import { startServer, tempDir, freePort } from '../support/helpers.js';

const vigil = (args: string[], env: NodeJS.ProcessEnv = {}) => runVigil(args, { env });

function writeConfig(dir: string, body: string): string {
  const file = join(dir, 'vigil.yaml');
  writeFileSync(file, body);
  return file;
}

/** Starts `vigil start` and resolves once it logs that it started. */
async function startVigil(config: string, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, vigilArgs('start', '--config', config), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const deadline = Date.now() + 20_000;
  while (!out.includes('vigil started')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`vigil did not start:\n${out}`);
    await sleep(50);
  }
  return { child, output: () => out, exited };
}

describe('vigil config check', () => {
  it('exits 0 for a valid file and 1 with every problem, path and line for a bad one', () => {
    const dir = tempDir();
    const good = vigil(['config', 'check', '--config', writeConfig(dir, 'log: { level: warn }\n')]);
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /ok/);
    const bad = vigil(['config', 'check', '--config', writeConfig(dir, 'gateway:\n  listen: { port: "eighty" }\n  nope: 1\n')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /2 problem\(s\)/);
    assert.match(bad.stderr, /gateway\.listen\.port \(line 2\): .*\[VGL_CONFIG_INVALID\]/);
    assert.match(bad.stderr, /gateway\.nope \(line 3\): unknown key/);
    const missing = vigil(['config', 'check', '--config', join(dir, 'absent.yaml')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /VGL_CONFIG_NOT_FOUND/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');
  });

  it('exits 2 for an unknown command', () => {
    assert.equal(vigil(['frobnicate']).status, 2);
  });
});

describe('vigil keys', () => {
  it('creates a key shown once, lists it without secrets, revokes it', () => {
    const dir = tempDir();
    const config = writeConfig(dir, `store: { dataDir: "${join(dir, 'data')}" }\n`);
    const created = vigil(['keys', 'create', '--config', config, '--name', 'agent-a', '--scopes', 'agents:invoke,usage:read', '--json']);
    assert.equal(created.status, 0, created.stderr);
    const key = JSON.parse(created.stdout) as { id: string; key: string; scopes: string[] };
    assert.match(key.key, /^vgl_[a-z2-7]{12}_[A-Za-z0-9]{32}$/);
    assert.deepEqual(key.scopes, ['agents:invoke', 'usage:read']);
    const listed = vigil(['keys', 'list', '--config', config, '--json']);
    const rows = JSON.parse(listed.stdout) as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.status, 'active');
    assert.ok(!listed.stdout.includes(key.key.slice(-32)), 'secret not listed');
    assert.ok(!('hash' in (rows[0] as object)));
    const plain = vigil(['keys', 'list', '--config', config]);
    assert.match(plain.stdout, new RegExp(`${key.id}\\s+active`));
    assert.equal(vigil(['keys', 'revoke', key.id, '--config', config]).status, 0);
    assert.match(vigil(['keys', 'list', '--config', config]).stdout, new RegExp(`${key.id}\\s+revoked`));
    const unknown = vigil(['keys', 'revoke', 'nosuchkey', '--config', config]);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /VGL_KEY_NOT_FOUND/);
  });

  it('rejects bad scopes, names and expiries with a usage code', () => {
    const dir = tempDir();
    const config = writeConfig(dir, `store: { dataDir: "${join(dir, 'data')}" }\n`);
    for (const args of [['--scopes', 'Bad Scope'], ['--expires', 'tomorrow'], ['--name', '']]) {
      const r = vigil(['keys', 'create', '--config', config, '--name', 'x', ...args]);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, /VGL_CLI_USAGE/);
    }
  });

  it('refuses a data dir readable by others', () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    const config = writeConfig(dir, `store: { dataDir: "${data}" }\n`);
    assert.equal(vigil(['keys', 'list', '--config', config]).status, 0);
    chmodSync(data, 0o755);
    const r = vigil(['keys', 'list', '--config', config]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /VGL_STORE_DATA_DIR.*chmod 700/);
  });
});

describe('vigil start', () => {
  it('fails with a coded error when its port is taken, leaving nothing running', async () => {
    const dir = tempDir();
    const blocker = await startServer(() => undefined);
    const config = writeConfig(dir, `gateway: { listen: { port: ${blocker.port} } }\nconsole: { listen: { port: 0 } }\nstore: { dataDir: "${join(dir, 'data')}" }\n`);
    const r = vigil(['start', '--config', config]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /VGL_LISTEN_FAILED: gateway cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
  });

  it('on SIGTERM finishes a streaming response in flight, then exits 0', async () => {
    const dir = tempDir();
    const { url } = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let n = 0;
      const timer = setInterval(() => {
        res.write(`data: ${n}\n\n`);
        if (++n === 10) {
          clearInterval(timer);
          res.end();
        }
      }, 100);
    });
    const port = await freePort();
    const config = writeConfig(
      dir,
      `gateway:\n  listen: { port: ${port} }\n  routes: [{ name: s, prefix: /s/, upstream: "${url}", auth: none }]\nconsole: { listen: { port: 0 } }\nstore: { dataDir: "${join(dir, 'data')}" }\nshutdown: { timeout: 10s }\n`,
    );
    const vigilProcess = await startVigil(config);
    const res = await request(`http://127.0.0.1:${port}/s/stream`);
    const chunks: string[] = [];
    let signalled = false;
    for await (const chunk of res.body) {
      chunks.push(String(chunk));
      if (!signalled) {
        signalled = true;
        vigilProcess.child.kill('SIGTERM');
      }
    }
    assert.equal(chunks.join(''), Array.from({ length: 10 }, (_, i) => `data: ${i}\n\n`).join(''));
    assert.equal(await vigilProcess.exited, 0, vigilProcess.output());
    assert.match(vigilProcess.output(), /"status":200/);
    assert.match(vigilProcess.output(), /vigil stopped/);
  });

  it('on SIGTERM cuts a stream still running at the shutdown deadline, says so, and exits 0', async () => {
    const dir = tempDir();
    const { url } = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => res.write('data: tick\n\n'), 100);
      res.on('close', () => clearInterval(timer));
    });
    const port = await freePort();
    const config = writeConfig(
      dir,
      `gateway:\n  listen: { port: ${port} }\n  routes: [{ name: s, prefix: /s/, upstream: "${url}", auth: none }]\nconsole: { listen: { port: 0 } }\nstore: { dataDir: "${join(dir, 'data')}" }\nshutdown: { timeout: 1s }\n`,
    );
    const vigilProcess = await startVigil(config);
    const res = await request(`http://127.0.0.1:${port}/s/stream`);
    let signalledAt = 0;
    const ended = (async () => {
      for await (const chunk of res.body) {
        assert.equal(String(chunk).startsWith('data: tick'), true);
        if (!signalledAt) {
          signalledAt = Date.now();
          vigilProcess.child.kill('SIGTERM');
        }
      }
    })();
    await assert.rejects(ended, 'the endless stream is cut, not ended cleanly');
    const cutAfter = Date.now() - signalledAt;
    assert.ok(cutAfter >= 900, `cut ${cutAfter} ms after SIGTERM, before the 1 s deadline`);
    assert.equal(await vigilProcess.exited, 0, vigilProcess.output());
    assert.match(vigilProcess.output(), /"code":"VGL_SHUTDOWN_TIMEOUT".*drain deadline reached/);
    assert.match(vigilProcess.output(), /vigil stopped/);
  });

  it('a configured secret from the environment never appears in its output', async () => {
    const dir = tempDir();
    const canary = 'canary-7d1f-NEVER-LOG-ME';
    const config = writeConfig(
      dir,
      [
        'console: { listen: { port: 0 } }',
        'gateway: { listen: { port: 0 } }',
        `store: { dataDir: "${join(dir, 'data')}" }`,
        'monitor: { checks: [{ name: c, type: http, url: "http://127.0.0.1:9/health", interval: 200ms, timeout: 100ms }] }',
        'alerting:',
        '  rules: [{ name: r, kind: checkDown, check: c, for: 0s, receivers: [hook] }]',
        '  receivers: [{ name: hook, type: webhook, url: "http://127.0.0.1:9/hook?token=${HOOK_TOKEN}", headers: { authorization: "Bearer ${HOOK_TOKEN}" } }]',
      ].join('\n'),
    );
    const vigilProcess = await startVigil(config, { HOOK_TOKEN: canary });
    await sleep(1500); // checks fail, the alert fires, delivery to the dead receiver fails and is logged
    vigilProcess.child.kill('SIGTERM');
    assert.equal(await vigilProcess.exited, 0);
    assert.ok(!vigilProcess.output().includes(canary), vigilProcess.output());
  });
});
