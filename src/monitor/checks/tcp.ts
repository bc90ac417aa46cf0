import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CheckConfig } from '../../config/schema.js';
import { ConfiguredCheck } from '../check.js';
import type { CheckFactory, CheckOutcome } from '../check.js';
import { describeRequestFailure } from '../http-request.js';
import { down, judge } from '../outcome.js';

type TcpConfig = Extract<CheckConfig, { type: 'tcp' }>;

/** Up when a TCP connection to host:port opens within the timeout; latency is the connect time. */
export class TcpCheck extends ConfiguredCheck<'tcp'> {
  readonly type = 'tcp';

  constructor(config: TcpConfig) {
    super(config);
  }

  run(signal: AbortSignal): Promise<CheckOutcome> {
    const started = performance.now();
    return new Promise<CheckOutcome>((resolve) => {
      const socket = connect({ host: this.config.host, port: this.config.port, timeout: this.config.timeout, signal });
      const finish = (outcome: CheckOutcome): void => {
        socket.destroy();
        resolve(outcome);
      };
      socket.once('connect', () => {
        const latencyMs = performance.now() - started;
        finish(judge(this.config.conditions, {}, latencyMs, `connected in ${Math.round(latencyMs)}ms`));
      });
      socket.once('timeout', () => finish(down(performance.now() - started, `timed out after ${this.config.timeout}ms`)));
      socket.once('error', (err) => finish(down(performance.now() - started, signal.aborted ? 'cancelled' : describeRequestFailure(err))));
    });
  }
}

export const createTcpCheck: CheckFactory<'tcp'> = (config) => new TcpCheck(config);
