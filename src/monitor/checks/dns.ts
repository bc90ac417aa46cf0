import { Resolver } from 'node:dns/promises';
import { performance } from 'node:perf_hooks';
import type { CheckConfig } from '../../config/schema.js';
import { ConfiguredCheck } from '../check.js';
import type { CheckFactory, CheckOutcome } from '../check.js';
import { codeOf, down, judge } from '../outcome.js';

type DnsConfig = Extract<CheckConfig, { type: 'dns' }>;

const FAILURES: Record<string, string> = {
  ENOTFOUND: 'name does not exist',
  ENODATA: 'no records of that type',
  ESERVFAIL: 'server failure',
  EREFUSED: 'query refused',
  ETIMEOUT: 'no answer in time',
  ECONNREFUSED: 'server unreachable',
  ECANCELLED: 'cancelled',
};

/**
 * Resolves `query` for `recordType` (through `server` when given) and is up when there is an
 * answer containing every `expect` entry. Answers are the result's `[RECORDS]`, as text
 * (MX as `priority exchange`, TXT chunks joined).
 */
export class DnsCheck extends ConfiguredCheck<'dns'> {
  readonly type = 'dns';

  constructor(config: DnsConfig) {
    super(config);
  }

  async run(signal: AbortSignal): Promise<CheckOutcome> {
    const started = performance.now();
    const resolver = new Resolver({ timeout: this.config.timeout, tries: 1 });
    if (this.config.server !== undefined) resolver.setServers([this.config.server]);
    const onAbort = (): void => resolver.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    let records: string[];
    try {
      records = await this.resolve(resolver);
    } catch (err) {
      const code = codeOf(err);
      return down(performance.now() - started, `DNS ${this.config.recordType} lookup failed: ${FAILURES[code] ?? 'error'} (${code})`);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    const latencyMs = performance.now() - started;
    const missing = this.config.expect.filter((want) => !records.includes(want));
    if (missing.length > 0) return down(latencyMs, `expected ${missing.join(', ')} in the answer, got ${records.slice(0, 8).join(', ') || 'nothing'}`);
    return judge(this.config.conditions, { RECORDS: records }, latencyMs, `${records.length} ${this.config.recordType} record(s): ${records.slice(0, 4).join(', ')}`);
  }

  private async resolve(resolver: Resolver): Promise<string[]> {
    const { query } = this.config;
    switch (this.config.recordType) {
      case 'A':
        return resolver.resolve4(query);
      case 'AAAA':
        return resolver.resolve6(query);
      case 'CNAME':
        return resolver.resolveCname(query);
      case 'NS':
        return resolver.resolveNs(query);
      case 'MX':
        return (await resolver.resolveMx(query)).map((mx) => `${mx.priority} ${mx.exchange}`);
      case 'TXT':
        return (await resolver.resolveTxt(query)).map((chunks) => chunks.join(''));
    }
  }
}

export const createDnsCheck: CheckFactory<'dns'> = (config) => new DnsCheck(config);
