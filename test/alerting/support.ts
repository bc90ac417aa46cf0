import pino from 'pino';
import type { Clock } from '../../src/core/clock.js';
import { parseConfig } from '../../src/config/load.js';
import type { VigilConfig } from '../../src/config/schema.js';
import type { Logger } from '../../src/telemetry/logger.js';

/** A clock that moves only when the test says so. */
export class ManualClock implements Clock {
  constructor(private at = Date.parse('2025-01-01T00:00:00Z')) {}

  now(): number {
    return this.at;
  }

  advance(ms: number): void {
    this.at += ms;
  }
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 3000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A logger that writes nothing. */
export function quietLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A full config through the real loader, so defaults and validation apply. */
export function testConfig(partial: Record<string, unknown>): VigilConfig {
  return parseConfig(JSON.stringify(partial), 'test.yaml', {}).config;
}
