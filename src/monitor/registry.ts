import type { Check, CheckConfig, CheckDeps, CheckFactory, CheckType } from './check.js';
import { createCommandCheck } from './checks/command.js';
import { createDiskCheck } from './checks/disk.js';
import { createDnsCheck } from './checks/dns.js';
import { createFilesystemCheck } from './checks/filesystem.js';
import { createHeartbeatCheck } from './checks/heartbeat.js';
import { createHttpCheck } from './checks/http.js';
import { createJsonMetricCheck } from './checks/json-metric.js';
import { createPostgresCheck } from './checks/postgres.js';
import { createProcessCheck } from './checks/process.js';
import { createRedisCheck } from './checks/redis.js';
import { createTcpCheck } from './checks/tcp.js';
import { createTlsCheck } from './checks/tls.js';

/** Every check type, one line each. Adding a type: one file in checks/, one line here, its schema, its tests. */
export const checks: { readonly [T in CheckType]: CheckFactory<T> } = {
  http: createHttpCheck,
  'json-metric': createJsonMetricCheck,
  tcp: createTcpCheck,
  tls: createTlsCheck,
  dns: createDnsCheck,
  command: createCommandCheck,
  postgres: createPostgresCheck,
  redis: createRedisCheck,
  disk: createDiskCheck,
  filesystem: createFilesystemCheck,
  process: createProcessCheck,
  heartbeat: createHeartbeatCheck,
};

export function createCheck(config: CheckConfig, deps: CheckDeps): Check {
  const factory = checks[config.type] as CheckFactory;
  return factory(config, deps);
}
