import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { CheckConfig } from '../../config/schema.js';
import { ConfiguredCheck } from '../check.js';
import type { CheckFactory, CheckOutcome } from '../check.js';
import { describeRequestFailure } from '../http-request.js';
import { down, judge } from '../outcome.js';

type PostgresConfig = Extract<CheckConfig, { type: 'postgres' }>;

const PROBE_TABLE = 'vigil_monitor_probe';

/**
 * Connects, runs `SELECT 1` and, with `deep`, upserts a row in a scratch table and reads it back
 * (a database that accepts connections but cannot write is down). A fresh connection per run:
 * the check is about whether a new client can get in. Details carry the PostgreSQL error code
 * (SQLSTATE), never the URL or the server's message (which can quote the user name).
 */
export class PostgresCheck extends ConfiguredCheck<'postgres'> {
  readonly type = 'postgres';

  constructor(config: PostgresConfig) {
    super(config);
  }

  async run(signal: AbortSignal): Promise<CheckOutcome> {
    const started = performance.now();
    const client = new pg.Client({
      connectionString: this.config.url,
      connectionTimeoutMillis: this.config.timeout,
      query_timeout: this.config.timeout,
      statement_timeout: this.config.timeout,
      application_name: 'vigil-monitor',
    });
    // A hung server must not keep the socket: the abort ends the connection and the pending query.
    const onAbort = (): void => {
      void client.end().catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      if (this.config.deep) {
        const token = `${this.name}:${Date.now()}:${Math.random()}`;
        await client.query(`CREATE TABLE IF NOT EXISTS ${PROBE_TABLE} (check_name TEXT PRIMARY KEY, token TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now())`);
        await client.query(
          `INSERT INTO ${PROBE_TABLE} (check_name, token) VALUES ($1, $2) ON CONFLICT (check_name) DO UPDATE SET token = excluded.token, at = now()`,
          [this.name, token],
        );
        const read = await client.query<{ token: string }>(`SELECT token FROM ${PROBE_TABLE} WHERE check_name = $1`, [this.name]);
        if (read.rows[0]?.token !== token) return down(performance.now() - started, 'deep check read back a different value than it wrote');
      }
      const latencyMs = performance.now() - started;
      return judge(this.config.conditions, {}, latencyMs, this.config.deep ? 'query, write and read ok' : 'query ok');
    } catch (err) {
      const latencyMs = performance.now() - started;
      if (signal.aborted) return down(latencyMs, 'cancelled');
      return down(latencyMs, describePgFailure(err, this.config.timeout));
    } finally {
      signal.removeEventListener('abort', onAbort);
      await client.end().catch(() => undefined);
    }
  }
}

function describePgFailure(err: unknown, timeoutMs: number): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return `PostgreSQL error (SQLSTATE ${code})`;
  const message = err instanceof Error ? err.message : '';
  // pg reports its own timeouts without a code.
  if (/timeout/i.test(message)) return `timed out after ${timeoutMs}ms`;
  if (/Connection terminated/i.test(message)) return 'connection closed by server';
  return describeRequestFailure(err);
}

export const createPostgresCheck: CheckFactory<'postgres'> = (config) => new PostgresCheck(config);
