import type { Registry } from 'prom-client';
import type { VigilConfig } from '../config/schema.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';
import type { EventBus } from './bus.js';
import type { Clock } from './clock.js';

/** What every background service of the app is built from. */
export interface ServiceDeps {
  config: VigilConfig;
  store: Store;
  bus: EventBus;
  registry: Registry;
  logger: Logger;
  clock: Clock;
}
