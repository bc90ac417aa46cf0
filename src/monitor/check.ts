import type { Dispatcher } from 'undici';
import type { CheckConfig } from '../config/schema.js';
import type { CheckStatus } from '../store/records.js';
import type { HeartbeatBook } from './heartbeat-book.js';

export type { CheckConfig };
export type CheckType = CheckConfig['type'];

/** What one run of a check found. The scheduler adds the check name and the time. */
export interface CheckOutcome {
  status: CheckStatus;
  latencyMs: number;
  /** Readable and coded (`connection refused (ECONNREFUSED)`); never a URL, credential or query. */
  detail: string;
  /** A measured number (json-metric value, free disk percent, days to certificate expiry…), exported as `vigil_check_value`. */
  value?: number;
}

/** One configured check, ready to run. */
export interface Check {
  readonly name: string;
  readonly type: CheckType;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Whether `/readyz` waits for this check to be up. */
  readonly readiness: boolean;
  /** Runs once. Must settle soon after `signal` aborts (timeout or shutdown); must not throw. */
  run(signal: AbortSignal): Promise<CheckOutcome>;
}

/**
 * The schedule every check reads from its config once; subclasses add only what they measure.
 */
export abstract class ConfiguredCheck<T extends CheckType> implements Check {
  abstract readonly type: T;
  readonly name: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly readiness: boolean;

  constructor(protected readonly config: Extract<CheckConfig, { type: T }>) {
    this.name = config.name;
    this.intervalMs = config.interval;
    this.timeoutMs = config.timeout;
    this.readiness = config.readiness;
  }

  abstract run(signal: AbortSignal): Promise<CheckOutcome>;
}

/** What a check may share with its siblings; the monitor owns and closes them. */
export interface CheckDeps {
  /** HTTP connection pool that verifies TLS certificates. */
  dispatcher: Dispatcher;
  /** HTTP connection pool for checks with `tlsVerify: false`. */
  insecureDispatcher: Dispatcher;
  /** Where heartbeat pings land. */
  heartbeats: HeartbeatBook;
  /** Milliseconds since the epoch; the injected clock. */
  now: () => number;
}

export type CheckFactory<T extends CheckType = CheckType> = (config: Extract<CheckConfig, { type: T }>, deps: CheckDeps) => Check;
