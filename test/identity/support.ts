import { after } from 'node:test';
import { generate } from 'otplib';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { User } from '../../src/store/records.js';
import { browserHeaders, LogCapture, ManualClock, tempDir } from '../support/helpers.js';
import type { BrowserHeaders } from '../support/helpers.js';


/** A real App (store, console, identity) on free loopback ports with a manual clock; stopped after the file. */
export async function startIdentityApp(extra: Record<string, unknown> = {}): Promise<{ app: App; clock: ManualClock; log: LogCapture; bootstrap: { username: string; password: string } | undefined }> {
  const dataDir = tempDir();
  const log = new LogCapture();
  const clock = new ManualClock();
  // CSRF stays on (the default): mutating calls send the token, see sessionHeaders().
  const config = { gateway: { listen: { port: 0 } }, console: { listen: { port: 0 } }, store: { dataDir }, ...extra };
  const loaded = parseConfig(JSON.stringify(config), 'test.yaml', {});
  let bootstrap: { username: string; password: string } | undefined;
  const app = new App(loaded, { env: {}, clock, logDestination: log, onBootstrapOwner: (username, password) => (bootstrap = { username, password }) });
  await app.start();
  after(() => app.stop());
  return { app, clock, log, bootstrap };
}

export const STRONG = 'violet-harbour-quantum-7-lantern';

/**
 * A user with a strong password, created through the real service; a user whose role requires
 * MFA is enrolled with a real TOTP code (so their sessions from `sessionCookie` are usable).
 */
export async function addUser(app: App, username: string, role: string, now: number): Promise<User> {
  const user = await app.identity.users.create({ username, role, password: STRONG, now });
  if (app.identity.mfa.required(role)) {
    const { secret } = await app.identity.mfa.enrol(user);
    await app.identity.mfa.confirm(user, await generate({ secret, epoch: Math.floor(now / 1000) }), now);
  }
  return user;
}

/** A session cookie for the user, as the login route would set it; enough for reads (GET). */
export async function sessionCookie(app: App, user: User, now: number): Promise<string> {
  const { token } = await app.identity.sessions.create(user, '127.0.0.1', now);
  return `__Host-vigil_session=${token}`;
}

/** A session for the user with its CSRF token, as a browser sends them on any call (mutating ones need the token). */
export async function sessionHeaders(app: App, user: User, now: number): Promise<BrowserHeaders> {
  return browserHeaders(app, await sessionCookie(app, user, now));
}

export function errorCode(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}
