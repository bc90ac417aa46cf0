import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { checkServerIdentity, connect, rootCertificates } from 'node:tls';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { CheckConfig } from '../../config/schema.js';
import { formatDuration } from '../../core/duration.js';
import { ConfiguredCheck } from '../check.js';
import type { CheckDeps, CheckFactory, CheckOutcome } from '../check.js';
import { describeRequestFailure } from '../http-request.js';
import { down, judge } from '../outcome.js';

type TlsConfig = Extract<CheckConfig, { type: 'tls' }>;
const DAY = 86_400_000;

/**
 * Opens a TLS connection and judges the certificate the server presents: the chain must verify
 * against the system CAs (plus `caFile`), the name must match, and the time to expiry decides:
 * below `critical` is down, below `warning` is up with a warning detail. The seconds to expiry are
 * the result's value (`vigil_tls_cert_expiry_seconds`), so alert rules can watch the trend.
 */
export class TlsCheck extends ConfiguredCheck<'tls'> {
  readonly type = 'tls';
  private readonly serverName: string;
  private readonly ca: string[] | undefined;

  constructor(config: TlsConfig, private readonly deps: CheckDeps) {
    super(config);
    this.serverName = config.serverName ?? config.host;
    // Read once at start: a missing CA file is a start-up problem, not a recurring check failure.
    this.ca = config.caFile === undefined ? undefined : [...rootCertificates, readFileSync(config.caFile, 'utf8')];
  }

  run(signal: AbortSignal): Promise<CheckOutcome> {
    const started = performance.now();
    return new Promise<CheckOutcome>((resolve) => {
      // Verification is done below, by hand, so that an invalid certificate is still read and described.
      const socket = connect({
        host: this.config.host,
        port: this.config.port,
        servername: this.serverName,
        rejectUnauthorized: false,
        ca: this.ca,
        timeout: this.config.timeout,
      });
      const onAbort = (): void => finish(down(performance.now() - started, 'cancelled'));
      const finish = (outcome: CheckOutcome): void => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(outcome);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('secureConnect', () => finish(this.judgeCertificate(socket, performance.now() - started)));
      socket.once('timeout', () => finish(down(performance.now() - started, `timed out after ${this.config.timeout}ms`)));
      socket.once('error', (err) => finish(down(performance.now() - started, signal.aborted ? 'cancelled' : describeRequestFailure(err))));
    });
  }

  private judgeCertificate(socket: TLSSocket, latencyMs: number): CheckOutcome {
    const cert: PeerCertificate = socket.getPeerCertificate();
    if (cert.valid_to === undefined) return down(latencyMs, 'server presented no certificate');
    const remainingMs = Date.parse(cert.valid_to) - this.deps.now();
    const value = Math.round(remainingMs / 1000);
    const withValue = (outcome: CheckOutcome): CheckOutcome => ({ ...outcome, value });
    if (remainingMs <= 0) return withValue(down(latencyMs, `certificate expired ${days(-remainingMs)} ago`));
    const reason = socket.authorizationError as unknown as Error | string | undefined;
    const code = typeof reason === 'string' ? reason : (reason as NodeJS.ErrnoException | undefined)?.code;
    if (!socket.authorized && code !== 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return withValue(down(latencyMs, describeRequestFailure(Object.assign(new Error('tls'), { code: code ?? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }))));
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || checkServerIdentity(this.serverName, cert) !== undefined) {
      return withValue(down(latencyMs, `certificate does not match host name ${this.serverName} (ERR_TLS_CERT_ALTNAME_INVALID)`));
    }
    if (remainingMs < this.config.critical) {
      return withValue(down(latencyMs, `certificate expires in ${days(remainingMs)} (critical under ${formatDuration(this.config.critical)})`));
    }
    const detail =
      remainingMs < this.config.warning
        ? `warning: certificate expires in ${days(remainingMs)} (warning under ${formatDuration(this.config.warning)})`
        : `certificate valid for ${days(remainingMs)}`;
    return judge(this.config.conditions, { CERTIFICATE_EXPIRATION: remainingMs }, latencyMs, detail, value);
  }
}

function days(ms: number): string {
  const d = ms / DAY;
  return d >= 1 ? `${Math.floor(d)}d` : `${Math.max(1, Math.floor(ms / 3_600_000))}h`;
}

export const createTlsCheck: CheckFactory<'tls'> = (config, deps) => new TlsCheck(config, deps);
