import { collectDefaultMetrics, Registry } from 'prom-client';

/** A registry with Node process metrics (`vigil_process_*`, `vigil_nodejs_*`). One per app instance. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vigil_' });
  return registry;
}
