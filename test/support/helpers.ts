import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after } from 'node:test';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { Clock } from '../../src/core/clock.js';
import { isVigilError } from '../../src/core/errors.js';

/** A fresh 0700 data directory, removed when the test file ends. */
export function tempDir(prefix = 'vigil-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o700);
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A real HTTP server on a free loopback port. */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  options: ServerOptions = {},
): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer(options, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { server, url: `http://127.0.0.1:${port}`, port };
}

/** An upstream that answers `ok` and keeps the headers of every request; it accepts headers up to 8 MiB, so long forwarding chains reach it. */
export async function headerRecorder(): Promise<{ url: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const { url } = await startServer(
    (req, res) => {
      seen.push(req.headers);
      res.end('ok');
    },
    { maxHeaderSize: 8 * 1024 * 1024 },
  );
  return { url, seen };
}

/** A loopback port that was free a moment ago: nothing listens on it (for refused connections or a later listen). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Collects every line the logger writes, as the real serialized output. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(line);
    done();
  }

  get text(): string {
    return this.lines.join('\n');
  }

  records(): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

type Json = Record<string, unknown>;

function merge(base: Json, extra: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const prior = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && prior && typeof prior === 'object' && !Array.isArray(prior)
        ? merge(prior as Json, value as Json)
        : value;
  }
  return out;
}

/** A clock the test moves by hand, for timing rules tested without waiting. */
export class ManualClock implements Clock {
  constructor(public t = Date.UTC(2026, 0, 1)) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/**
 * Polls `probe` until it returns a value other than undefined/false. The deadline is no timing
 * assertion, only a guard so that a condition that never comes fails with its name instead of the
 * runner's bare timeout; it is long because a loaded machine runs every timer late. A test about
 * timing asserts the time itself, on a clock it controls.
 */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, deadlineMs = 20_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out after ${deadlineMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Starts an App whose config is `config` over a base of free ports and a temp data dir; the app
 * is stopped when the test file ends. JSON is YAML, so the config goes through the real loader.
 * `clock` replaces the system clock everywhere the app takes one.
 */
export async function startApp(
  config: Json,
  env: NodeJS.ProcessEnv = {},
  clock?: Clock,
): Promise<{ app: App; log: LogCapture; gatewayUrl: string; consoleUrl: string; dataDir: string }> {
  const dataDir = tempDir();
  const log = new LogCapture();
  // CSRF stays on (the default): cookie-session calls send the token with browserHeaders()/browserSession().
  const base: Json = { gateway: { listen: { port: 0 } }, console: { listen: { port: 0 } }, store: { dataDir } };
  const loaded = parseConfig(JSON.stringify(merge(base, config)), 'test.yaml', env);
  const app = new App(loaded, { env, logDestination: log, clock });
  await app.start();
  after(() => app.stop());
  return {
    app,
    log,
    dataDir,
    gatewayUrl: `http://127.0.0.1:${app.gateway.address().port}`,
    consoleUrl: `http://127.0.0.1:${app.console.address().port}`,
  };
}

/** The headers a browser sends on console calls with a cookie session: the cookies, and the CSRF token (needed by POST/PUT/PATCH/DELETE). */
export interface BrowserHeaders {
  cookie: string;
  'x-csrf-token': string;
}

type SetCookie = string | string[] | number | undefined;

/** `name=value` of each Set-Cookie value, as a browser keeps them (attributes dropped). */
function cookiePairs(setCookie: SetCookie): string[] {
  const values = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [String(setCookie)];
  return values.map((v) => v.split(';')[0] as string);
}

/**
 * What the console's scripts send after a page load: the session cookie plus a CSRF token fetched
 * from `GET /api/v1/auth/csrf` with it (the token comes back in the body and as the
 * `__Host-vigil_csrf` cookie, and goes out again as that cookie and the `x-csrf-token` header).
 */
export async function browserHeaders(app: App, sessionCookie: string): Promise<BrowserHeaders> {
  const res = await app.console.app.inject({ method: 'GET', url: '/api/v1/auth/csrf', headers: { cookie: sessionCookie } });
  if (res.statusCode !== 200) throw new Error(`GET /api/v1/auth/csrf answered ${res.statusCode}: ${res.body}`);
  const { token } = JSON.parse(res.body) as { token: string };
  return { cookie: [sessionCookie, ...cookiePairs(res.headers['set-cookie'])].join('; '), 'x-csrf-token': token };
}

/** The same from a response that started a session (login, the MFA step, a password change): its cookies and its `x-csrf-token` header. */
export function browserSession(res: { headers: Record<string, SetCookie | string[]> }): BrowserHeaders {
  const token = res.headers['x-csrf-token'];
  if (typeof token !== 'string') throw new Error('the response started no session (no x-csrf-token header)');
  return { cookie: cookiePairs(res.headers['set-cookie']).join('; '), 'x-csrf-token': token };
}

/** Sends bytes exactly as given on a new connection and resolves with everything received once the peer closed it. */
export function rawExchange(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

/** A GET with the path exactly as written (no client normalises it) and a request ID; resolves with the raw answer. */
export function rawGet(port: number, target: string, requestId: string): Promise<string> {
  return rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n`);
}

/** The message of the coded error a configuration is refused with; fails the test when it is accepted. */
export function configError(config: unknown): string {
  try {
    parseConfig(JSON.stringify(config), 'test.yaml', {});
  } catch (err) {
    if (isVigilError(err)) return err.message;
    throw err;
  }
  throw new Error('the config was accepted');
}
