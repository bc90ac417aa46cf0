import type { CheckConfig } from '../../config/schema.js';
import { ConfiguredCheck } from '../check.js';
import type { CheckDeps, CheckFactory, CheckOutcome } from '../check.js';
import { valueAt } from '../conditions.js';
import { down, judge } from '../outcome.js';
import { HttpProbe, isResponse } from './http.js';

type JsonMetricConfig = Extract<CheckConfig, { type: 'json-metric' }>;

/**
 * Fetches JSON and extracts one number at `path` (a provider's remaining credits, a queue depth).
 * The number is the result's `value` (exported as `vigil_check_value`); conditions on `[VALUE]`
 * decide up or down. A non-2xx status, a body that is not JSON, a missing path or a value that is
 * not a number is down with that reason.
 */
export class JsonMetricCheck extends ConfiguredCheck<'json-metric'> {
  readonly type = 'json-metric';
  private readonly probe: HttpProbe;
  private readonly pathText: string;

  constructor(config: JsonMetricConfig, deps: CheckDeps) {
    super(config);
    this.probe = new HttpProbe(config, deps);
    this.pathText = config.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  }

  async run(signal: AbortSignal): Promise<CheckOutcome> {
    const seen = await this.probe.send(signal);
    if (!isResponse(seen)) return seen;
    if (seen.status < 200 || seen.status > 299) return down(seen.latencyMs, `status ${seen.status} not 2xx`);
    let json: unknown;
    try {
      json = JSON.parse(seen.body);
    } catch {
      return down(seen.latencyMs, 'response is not JSON');
    }
    const found = valueAt(json, this.config.path);
    if (found === undefined) return down(seen.latencyMs, `no value at ${this.pathText}`);
    const value = typeof found === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(found) ? Number(found) : found;
    if (typeof value !== 'number' || !Number.isFinite(value)) return down(seen.latencyMs, `value at ${this.pathText} is not a number`);
    return judge(this.config.conditions, { VALUE: value, STATUS: seen.status }, seen.latencyMs, `${this.pathText} = ${value}`, value);
  }
}

export const createJsonMetricCheck: CheckFactory<'json-metric'> = (config, deps) => new JsonMetricCheck(config, deps);
