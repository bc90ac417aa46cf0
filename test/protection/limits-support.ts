import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { request } from 'undici';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { SecurityEvent } from '../../src/store/records.js';
import { LogCapture, ManualClock, startServer, tempDir } from '../support/helpers.js';

export { ManualClock };

/** A real App on free loopback ports with a manual clock; stopped after the file. */
export async function startProtectedApp(config: Record<string, unknown>, options: { dataDir?: string; stop?: boolean } = {}) {
  const dataDir = options.dataDir ?? tempDir();
  const log = new LogCapture();
  const clock = new ManualClock();
  const base = { gateway: { listen: { port: 0 } }, console: { listen: { port: 0 } }, store: { dataDir } };
  const merged = { ...base, ...config, gateway: { ...base.gateway, ...(config.gateway as Record<string, unknown> | undefined) } };
  const loaded = parseConfig(JSON.stringify(merged), 'test.yaml', {});
  const app = new App(loaded, { env: {}, clock, logDestination: log });
  await app.start();
  if (options.stop !== false) after(() => app.stop());
  return { app, clock, log, dataDir, gatewayUrl: `http://127.0.0.1:${app.gateway.address().port}`, consoleUrl: `http://127.0.0.1:${app.console.address().port}` };
}

/** An upstream answering 200 `ok`, counting the requests that reached it. */
export async function okUpstream() {
  const stats = { requests: 0 };
  const { url } = await startServer((_req, res) => {
    stats.requests++;
    res.end('ok');
  });
  return { url, stats };
}

export async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  const body = await res.body.text();
  const code = res.statusCode === 200 ? undefined : (JSON.parse(body) as { error: { code: string } }).error.code;
  return { status: res.statusCode, headers: res.headers, body, code };
}

/** Status codes of `n` requests sent one after another. */
export async function statuses(url: string, n: number, headers: Record<string, string> = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await get(url, headers)).status);
  return out;
}

export const count = (list: readonly number[], status: number): number => list.filter((s) => s === status).length;

/** Security events of a type, after the recorder's async writes settled. */
export async function eventsOf(app: App, type: string): Promise<SecurityEvent[]> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return app.store.securityEvents.recent(1000, type);
}

const CHILD = new URL('./limits-child.ts', import.meta.url).pathname;

/** One gateway instance in its own process (killed after the file, or earlier by the test), for cluster tests. */
export async function startChild(config: Record<string, unknown>): Promise<{ url: string; child: ChildProcess }> {
  // Without the test runner's context variable, the child is a plain program, not a test file.
  const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'inherit'], env });
  after(() => {
    child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"url"'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
  return { url, child };
}

/**
 * Stored events of a type once the recorder's coalescing window is closed, and how many rejections
 * they stand for: each stored event plus the others it reports as `suppressed`.
 */
export async function coalescedEvents(app: App, type: string): Promise<{ events: SecurityEvent[]; total: number }> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  await app.identity.events.flush();
  const events = await app.store.securityEvents.recent(1000, type);
  return { events, total: events.reduce((sum, e) => sum + 1 + Number(e.details.suppressed ?? 0), 0) };
}
