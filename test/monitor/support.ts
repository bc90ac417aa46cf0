import { after } from 'node:test';
import { Agent } from 'undici';
import type { CheckConfig } from '../../src/config/schema.js';
import { createCheck } from '../../src/monitor/index.js';
import type { Check, CheckDeps, CheckOutcome } from '../../src/monitor/index.js';
import { HeartbeatBook } from '../../src/monitor/heartbeat-book.js';
import { testConfig } from '../alerting/support.js';

// Created when the test file imports this module, so the pools close when the whole file ends.
const dispatcher = new Agent();
const insecureDispatcher = new Agent({ connect: { rejectUnauthorized: false } });
after(async () => {
  await dispatcher.close();
  await insecureDispatcher.close();
});

/** Real connection pools shared by a test file's checks; a fresh heartbeat book each call. */
export function checkDeps(now: () => number = Date.now): CheckDeps {
  return { dispatcher, insecureDispatcher, heartbeats: new HeartbeatBook(), now };
}

/** One check built from config through the real loader (defaults, validation, condition parsing). */
export function buildCheck(config: Record<string, unknown>, deps: CheckDeps = checkDeps()): Check {
  const loaded = testConfig({ monitor: { checks: [{ name: 'probe', interval: 5000, timeout: 2000, ...config }] } });
  return createCheck(loaded.monitor.checks[0] as CheckConfig, deps);
}

export function runOnce(check: Check, signal: AbortSignal = new AbortController().signal): Promise<CheckOutcome> {
  return check.run(signal);
}
