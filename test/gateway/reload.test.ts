import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { parseConfig } from '../../src/config/load.js';
import { runVigil, vigilArgs } from '../support/cli.js';
import { startApp, startServer, tempDir, waitFor } from '../support/helpers.js';

async function named(name: string) {
  const { url, port } = await startServer((_req, res) => {
    // A little latency, so reloads land while requests are in flight.
    setTimeout(() => res.end(name), 2);
  });
  return { url, port };
}

describe('gateway hot reload', () => {
  it('swaps routes under load with zero failed requests', async () => {
    const a = await named('a');
    const b = await named('b');
    const routes = (target: string, extra: Record<string, unknown>[] = []) => [{ name: 'r', prefix: '/r/', upstream: target, auth: 'none' }, ...extra];
    const { app, gatewayUrl, dataDir } = await startApp({ gateway: { routes: routes(a.url) } });
    const configFor = (gatewayRoutes: Record<string, unknown>[]) =>
      parseConfig(JSON.stringify({ gateway: { listen: { port: 0 }, routes: gatewayRoutes }, console: { listen: { port: 0 } }, store: { dataDir } }), 'reload.yaml', {});
    assert.equal((await request(`${gatewayUrl}/new/x`)).statusCode, 404);

    const agent = new Agent({ connections: 16 });
    after(() => agent.close());
    const statuses = new Map<string, number>();
    const failures: string[] = [];
    let running = true;
    const worker = async (): Promise<void> => {
      while (running) {
        try {
          const res = await request(`${gatewayUrl}/r/x`, { dispatcher: agent });
          const body = await res.body.text();
          const key = `${res.statusCode} ${body.length < 3 ? body : 'error'}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const workers = Array.from({ length: 8 }, () => worker());
    for (let i = 0; i < 6; i++) {
      await sleep(120);
      const target = i % 2 === 0 ? b.url : a.url;
      await app.reloadRoutes(configFor(routes(target, [{ name: 'new', prefix: '/new/', upstream: b.url, auth: 'none' }])));
    }
    await sleep(120);
    running = false;
    await Promise.all(workers);
    assert.deepEqual(failures, []);
    const total = [...statuses.values()].reduce((x, y) => x + y, 0);
    // Enough traffic that every reload lands among running requests (8 workers, 6 reloads).
    assert.ok(total > 30, `only ${total} requests ran`);
    assert.deepEqual([...statuses.keys()].sort(), ['200 a', '200 b'], JSON.stringify(Object.fromEntries(statuses)));
    // The last reload pointed /r/ back at a, and /new/ exists now.
    assert.equal(await (await request(`${gatewayUrl}/r/x`)).body.text(), 'a');
    assert.equal(await (await request(`${gatewayUrl}/new/x`)).body.text(), 'b');
  });

  it('`vigil reload` (SIGHUP) makes `vigil start` reload; an invalid file is refused and the running routes stay', { timeout: 60_000 }, async () => {
    const a = await named('a');
    const b = await named('b');
    const dir = tempDir();
    const config = join(dir, 'vigil.yaml');
    const probe = await startServer(() => undefined);
    const gatewayPort = probe.port;
    probe.server.close();
    const yaml = (upstream: string): string =>
      `gateway:\n  listen: { port: ${gatewayPort} }\n  routes:\n    - { name: r, prefix: /r/, upstream: "${upstream}", auth: none }\nconsole:\n  listen: { port: 0 }\nstore:\n  dataDir: ${join(dir, 'data')}\nlog:\n  format: json\n`;
    writeFileSync(config, yaml(a.url));
    const vigil = spawn(process.execPath, vigilArgs('start', '--config', config), { stdio: ['ignore', 'pipe', 'pipe'] });
    after(() => void (vigil.exitCode === null && vigil.kill('SIGKILL')));
    let out = '';
    vigil.stdout.on('data', (d: Buffer) => (out += d.toString()));
    vigil.stderr.on('data', (d: Buffer) => (out += d.toString()));
    /** Waits for `text` in the output after `from`; fails at once if Vigil exits instead. */
    const logged = (text: string, from = 0): Promise<boolean> =>
      waitFor(() => {
        assert.equal(vigil.exitCode, null, out);
        return out.slice(from).includes(text);
      }, `'${text}' in Vigil's output`);
    await logged('vigil started');
    const url = `http://127.0.0.1:${gatewayPort}/r/x`;
    assert.equal(await (await request(url)).body.text(), 'a');

    let mark = out.length;
    writeFileSync(config, yaml(b.url));
    const reload = runVigil(['reload', '--config', config]);
    assert.equal(reload.status, 0, reload.stderr);
    assert.match(reload.stdout, new RegExp(`SIGHUP to pid ${vigil.pid}`));
    await logged('gateway routes reloaded', mark);
    assert.equal(await (await request(url)).body.text(), 'b');

    mark = out.length;
    writeFileSync(config, yaml(a.url).replace('auth: none', 'auth: sometimes'));
    vigil.kill('SIGHUP');
    await logged('reload refused', mark);
    assert.match(out.slice(mark), /VGL_CONFIG_INVALID/);
    assert.match(out.slice(mark), /gateway\.routes\[0\]\.auth/);
    assert.equal(await (await request(url)).body.text(), 'b', 'the running routes stay');

    vigil.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => (vigil.exitCode !== null ? resolve(vigil.exitCode) : vigil.on('exit', resolve)));
    assert.equal(code, 0, out);
    assert.ok(!existsSync(join(dir, 'data', 'vigil.pid')), 'the pid file is removed on exit');
    writeFileSync(config, yaml(a.url));
    const notRunning = runVigil(['reload', '--config', config]);
    assert.equal(notRunning.status, 1);
    assert.match(notRunning.stderr, /error VGL_RELOAD_NOT_RUNNING: no running Vigil found/);
    writeFileSync(join(dir, 'data', 'vigil.pid'), '999999999\n');
    assert.match(runVigil(['reload', '--config', config]).stderr, /VGL_RELOAD_NOT_RUNNING: .*stale pid file/);
  });
});
