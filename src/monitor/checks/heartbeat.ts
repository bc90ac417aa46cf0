import type { CheckConfig } from '../../config/schema.js';
import { formatDuration } from '../../core/duration.js';
import { ConfiguredCheck } from '../check.js';
import type { CheckDeps, CheckFactory, CheckOutcome } from '../check.js';

type HeartbeatConfig = Extract<CheckConfig, { type: 'heartbeat' }>;

/**
 * A push check: a cron job or agent calls `POST /api/v1/heartbeat/<check>` with its token, and the
 * check is down when no ping has arrived for `grace`. Before the first ping, the grace runs from
 * when Vigil started, so a job that never calls in is noticed too.
 */
export class HeartbeatCheck extends ConfiguredCheck<'heartbeat'> {
  readonly type = 'heartbeat';
  private readonly since: number;

  constructor(config: HeartbeatConfig, private readonly deps: CheckDeps) {
    super(config);
    this.since = deps.now();
    deps.heartbeats.register(config.name, config.token);
  }

  async run(): Promise<CheckOutcome> {
    const now = this.deps.now();
    const last = this.deps.heartbeats.last(this.name);
    const ageMs = now - (last ?? this.since);
    const grace = formatDuration(this.config.grace);
    if (ageMs <= this.config.grace) {
      return { status: 'up', latencyMs: 0, detail: last === undefined ? `waiting for the first ping (grace ${grace})` : `last ping ${Math.round(ageMs / 1000)}s ago`, value: ageMs / 1000 };
    }
    const detail = last === undefined ? `no ping received within ${grace} of start` : `no ping for ${Math.round(ageMs / 1000)}s (grace ${grace})`;
    return { status: 'down', latencyMs: 0, detail, value: ageMs / 1000 };
  }
}

export const createHeartbeatCheck: CheckFactory<'heartbeat'> = (config, deps) => new HeartbeatCheck(config, deps);
