import type { Check, CheckConfig, CheckDeps, CheckFactory, CheckType } from './check.js';
import { createHttpCheck } from './checks/http.js';

/** Every check type, one line each. Adding a type: one file in checks/, one line here, its tests. */
export const checks: { readonly [T in CheckType]: CheckFactory<T> } = {
  http: createHttpCheck,
};

export function createCheck(config: CheckConfig, deps: CheckDeps): Check {
  const factory = checks[config.type] as CheckFactory;
  return factory(config, deps);
}
