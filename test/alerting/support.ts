import { after } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { ActionRunner } from '../../src/alerting/actions.js';
import { RuleEngine } from '../../src/alerting/rule-engine.js';
import { EventBus } from '../../src/core/bus.js';
import type { Alert } from '../../src/store/records.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from '../support/helpers.js';
import type { Clock } from '../../src/core/clock.js';
import { parseConfig } from '../../src/config/load.js';
import type { VigilConfig } from '../../src/config/schema.js';
import type { Logger } from '../../src/telemetry/logger.js';


/** A logger that writes nothing. */
export function quietLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A full config through the real loader, so defaults and validation apply. */
export function testConfig(partial: Record<string, unknown>): VigilConfig {
  return parseConfig(JSON.stringify(partial), 'test.yaml', {}).config;
}

/** A rule engine on a real store, bus and registry; records every published change. */
export async function startEngine(config: VigilConfig, options: { clock: Clock; registry?: Registry; store?: Store; actions?: ActionRunner; bus?: EventBus }) {
  const store = options.store ?? openSqliteStore(tempDir());
  const bus =
    options.bus ??
    new EventBus((_event, err) => {
      throw err;
    });
  const registry = options.registry ?? new Registry();
  const engine = new RuleEngine({ config, store, bus, registry, clock: options.clock, logger: quietLogger(), actions: options.actions });
  const changes: Alert[] = [];
  bus.on('alert.changed', (alert) => changes.push(alert));
  await engine.start();
  after(() => engine.stop(Date.now() + 1000));
  return { engine, store, bus, registry, changes };
}
