import type { Dispatcher } from 'undici';
import type { HttpCheckConfig } from '../config/schema.js';
import type { CheckStatus } from '../store/records.js';

/** Every configured check, whatever its type. A new type widens this union in config/schema.ts. */
export type CheckConfig = HttpCheckConfig;
export type CheckType = CheckConfig['type'];

/** What one run of a check found. The scheduler adds the check name and the time. */
export interface CheckOutcome {
  status: CheckStatus;
  latencyMs: number;
  /** Readable and coded (`connection refused (ECONNREFUSED)`); never a URL, credential or query. */
  detail: string;
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

/** What a check may share with its siblings: the HTTP connection pool, closed by the monitor on stop. */
export interface CheckDeps {
  dispatcher: Dispatcher;
}

export type CheckFactory<T extends CheckType = CheckType> = (config: Extract<CheckConfig, { type: T }>, deps: CheckDeps) => Check;
