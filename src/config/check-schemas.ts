import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseCondition, parseJsonPath } from '../monitor/conditions.js';
import type { Condition, Placeholder } from '../monitor/conditions.js';
import { duration, httpUrl, name } from './schema-parts.js';

/**
 * One schema per check type, joined into a union on `type`. Adding a type: a schema here, a line in
 * `checkSchema`, a file in src/monitor/checks/ and a line in the monitor registry.
 */

const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$/;
const host = z
  .string()
  .refine((value) => isIP(value) !== 0 || HOSTNAME.test(value), 'must be a host name or an IP address')
  .describe('Host name or IP address.');
const port = z.number().int().min(1).max(65535);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
const headers = z
  .record(z.string().regex(HEADER_NAME, 'must be a valid HTTP header name'), z.string().max(8192).refine((v) => !/[\r\n\0]/.test(v), 'must not contain CR, LF or NUL'))
  .default({})
  .describe('Extra request headers, e.g. an authorization token from `${ENV}`.');

/** Conditions parsed at load; only the placeholders the check type can fill are accepted. */
export const conditions = (allowed: readonly Placeholder[]) =>
  z
    .array(z.string().max(500))
    .max(32)
    .default([])
    .transform((texts, ctx): Condition[] => {
      const parsed: Condition[] = [];
      texts.forEach((text, i) => {
        const result = parseCondition(text);
        if (typeof result === 'string') ctx.addIssue({ code: 'custom', path: [i], message: result });
        else if (!allowed.includes(result.placeholder)) {
          ctx.addIssue({ code: 'custom', path: [i], message: `[${result.placeholder}] is not available here (use ${allowed.map((p) => `[${p}]`).join(', ')})` });
        } else parsed.push(result);
      });
      return parsed;
    })
    .describe(`Conditions that must all hold for the check to be up, e.g. \`[STATUS] == 200\` (see docs/monitoring.md). Placeholders: ${allowed.map((p) => `[${p}]`).join(', ')}.`);

const common = {
  name: name('check name').describe('Identifies the check in metrics, results and alert rules.'),
  interval: duration.prefault('30s').describe('Time between the starts of two runs.'),
  timeout: duration.prefault('5s').describe('A run that takes longer counts as down.'),
  readiness: z.boolean().default(false).describe('When true, `/readyz` answers 503 while this check is down.'),
  retries: z.number().int().min(0).max(10).default(0).describe('Failed runs reported as `pending` before the check is declared down (0: down at the first failure).'),
};

const httpRequest = {
  url: httpUrl.describe('URL to request. Credentials in it are sent as Basic auth and never logged.'),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET').describe('Request method.'),
  headers,
  body: z.string().max(65_536).optional().describe('Request body (at most 64 KiB).'),
  tlsVerify: z.boolean().default(true).describe('Verify the server certificate. Turn off only for a known self-signed endpoint.'),
};

const httpCheck = z.strictObject({
  ...common,
  type: z.literal('http').describe('Check type.'),
  ...httpRequest,
  expectStatus: z.array(z.number().int().min(100).max(599)).min(1).default([200]).describe('Response statuses that count as up.'),
  followRedirects: z.boolean().default(false).describe('Follow 3xx redirects (up to `maxRedirects`) and judge the final response.'),
  maxRedirects: z.number().int().min(1).max(20).default(5).describe('Most redirects followed when `followRedirects` is on.'),
  conditions: conditions(['STATUS', 'BODY', 'RESPONSE_TIME']),
});

const jsonMetricCheck = z.strictObject({
  ...common,
  type: z.literal('json-metric').describe('Check type.'),
  ...httpRequest,
  path: z
    .string()
    .max(300)
    .transform((text, ctx) => {
      const parsed = parseJsonPath(text);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    })
    .describe('Where the number is in the JSON response, e.g. `data.credits.remaining` or `items[0].value`.'),
  conditions: conditions(['VALUE', 'STATUS', 'RESPONSE_TIME']),
});

const tcpCheck = z.strictObject({
  ...common,
  type: z.literal('tcp').describe('Check type.'),
  host,
  port: port.describe('TCP port.'),
  conditions: conditions(['RESPONSE_TIME']),
});

/** Checked at load so that `vigil config check` reports it, not only the first start. */
function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

const tlsCheck = z.strictObject({
  ...common,
  type: z.literal('tls').describe('Check type.'),
  host,
  port: port.default(443).describe('TLS port.'),
  serverName: z.string().regex(HOSTNAME, 'must be a host name').optional().describe('Name sent in SNI and matched against the certificate; default `host`.'),
  caFile: z
    .string()
    .min(1)
    .refine(readable, 'file cannot be read')
    .optional()
    .describe('PEM file of extra CA certificates to trust (an internal CA), besides the system ones.'),
  warning: duration.prefault('30d').describe('Less time than this to expiry: the check stays up with a warning detail.'),
  critical: duration.prefault('7d').describe('Less time than this to expiry: the check is down.'),
  conditions: conditions(['CERTIFICATE_EXPIRATION', 'RESPONSE_TIME']),
}).refine((c) => c.critical <= c.warning, { message: 'critical must not exceed warning (critical is the shorter time to expiry)', path: ['critical'] });

const dnsCheck = z.strictObject({
  ...common,
  type: z.literal('dns').describe('Check type.'),
  query: z.string().regex(HOSTNAME, 'must be a host name').describe('Name to resolve.'),
  recordType: z.enum(['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS']).default('A').describe('Record type asked for.'),
  server: z
    .string()
    .refine((v) => isIP(v) !== 0 || /^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(v) || /^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(v), 'must be an IP address, optionally with :port')
    .optional()
    .describe('DNS server to ask (IP, optionally `:port`); default the system resolvers.'),
  expect: z.array(z.string().min(1).max(255)).default([]).describe('Answers that must all be present (e.g. an IP address); empty: any answer is up.'),
  conditions: conditions(['RECORDS', 'RESPONSE_TIME']),
});

const commandCheck = z.strictObject({
  ...common,
  type: z.literal('command').describe('Check type.'),
  command: z.string().min(1).max(4096).describe('Program to run (found on PATH), or the shell script when `shell` is on.'),
  args: z.array(z.string().max(4096)).max(64).default([]).describe('Arguments, passed as they are (no shell expansion).'),
  shell: z.boolean().default(false).describe('Run `command` through /bin/sh. Off by default: no expansion, no injection.'),
  cwd: z.string().min(1).optional().describe('Working directory.'),
  expectExitCode: z.number().int().min(0).max(255).default(0).describe('Exit code that counts as up.'),
  maxOutput: z.number().int().min(1024).max(1_048_576).default(65_536).describe('Bytes of stdout+stderr kept for conditions; the rest is discarded.'),
  conditions: conditions(['EXIT_CODE', 'OUTPUT', 'RESPONSE_TIME']),
});

const postgresUrl = z.string().refine((v) => {
  try {
    const url = new URL(v);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}, 'must be a postgres:// or postgresql:// URL');

const postgresCheck = z.strictObject({
  ...common,
  type: z.literal('postgres').describe('Check type.'),
  url: postgresUrl.describe('Connection URL; use `${ENV}` for the password. Never logged.'),
  deep: z.boolean().default(false).describe('Also write a row to a scratch table `vigil_monitor_probe` and read it back.'),
  conditions: conditions(['RESPONSE_TIME']),
});

const redisUrl = z.string().refine((v) => {
  try {
    const url = new URL(v);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}, 'must be a redis:// or rediss:// URL');

const redisCheck = z.strictObject({
  ...common,
  type: z.literal('redis').describe('Check type.'),
  url: redisUrl.describe('Connection URL; use `${ENV}` for the password. Never logged.'),
  deep: z.boolean().default(false).describe('Also SET a scratch key `vigil:monitor:probe:<check>` (expiring) and GET it back.'),
  conditions: conditions(['RESPONSE_TIME']),
});

const diskCheck = z.strictObject({
  ...common,
  type: z.literal('disk').describe('Check type.'),
  path: z.string().min(1).describe('Any path on the file system to measure.'),
  minFreePercent: z.number().min(0).max(100).default(10).describe('Down when less than this percentage is free.'),
  minFreeBytes: z.number().int().min(0).default(0).describe('Down when fewer bytes than this are free.'),
  conditions: conditions(['VALUE']),
});

const filesystemCheck = z.strictObject({
  ...common,
  type: z.literal('filesystem').describe('Check type.'),
  directory: z.string().min(1).describe('Directory in which a temporary file is written, read back and deleted.'),
  conditions: conditions(['RESPONSE_TIME']),
});

const processCheck = z
  .strictObject({
    ...common,
    type: z.literal('process').describe('Check type.'),
    pidFile: z.string().min(1).optional().describe('File holding the process ID.'),
    processName: z.string().min(1).max(15).optional().describe('Command name (as in /proc/PID/comm, at most 15 characters); up when one such process runs.'),
    maxRss: z.number().int().min(1).optional().describe('Down when the process resident memory exceeds this many bytes.'),
    conditions: conditions(['VALUE']),
  })
  .refine((c) => (c.pidFile === undefined) !== (c.processName === undefined), { message: 'set exactly one of pidFile and processName', path: ['pidFile'] });

const heartbeatCheck = z.strictObject({
  ...common,
  type: z.literal('heartbeat').describe('Check type; `interval` is how often the missing-ping check runs.'),
  token: z.string().min(16, 'must be at least 16 characters').max(256).describe('Secret the pinger sends as `Authorization: Bearer <token>`; use `${ENV}`.'),
  grace: duration.describe('Down when no ping has arrived for this long.'),
});

export const checkSchema = z.discriminatedUnion(
  'type',
  [httpCheck, jsonMetricCheck, tcpCheck, tlsCheck, dnsCheck, commandCheck, postgresCheck, redisCheck, diskCheck, filesystemCheck, processCheck, heartbeatCheck],
  { error: (issue) => (issue.code === 'invalid_union' ? `unknown check type: use one of ${CHECK_TYPES.join(', ')}` : undefined) },
);

export const CHECK_TYPES = ['http', 'json-metric', 'tcp', 'tls', 'dns', 'command', 'postgres', 'redis', 'disk', 'filesystem', 'process', 'heartbeat'] as const;

export type CheckConfig = z.output<typeof checkSchema>;

export const monitorSection = z
  .strictObject({
    maxConcurrent: z.number().int().min(1).max(10_000).default(256).describe('Most check runs in flight at once; due runs beyond it wait their turn (a hung run frees its slot at its timeout).'),
    history: z
      .strictObject({
        rawRetention: duration.prefault('7d').describe('How long every single result is kept.'),
        rollupRetention: duration.prefault('400d').describe('How long hourly rollups (uptime, latency percentiles, value) are kept.'),
      })
      .prefault({})
      .refine((h) => h.rollupRetention >= h.rawRetention, { message: 'rollupRetention must not be shorter than rawRetention', path: ['rollupRetention'] }),
    system: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Export host metrics (`vigil_system_*`) and sample host and process figures into history.'),
        sampleInterval: duration.prefault('1m').describe('Time between two system samples kept in history (kept as long as raw check results).'),
      })
      .prefault({}),
    checks: z.array(checkSchema).default([]).describe('Health checks run on a schedule (see docs/monitoring.md).'),
  })
  .prefault({});
