import { parseDuration } from '../../core/duration.js';
import { VigilError } from '../../core/errors.js';
import { EVENTS_PAGE_MAX, isSecuritySeverity, parseInstant, securityEventPage } from '../../identity/security-event-query.js';
import type { SecurityEventPage } from '../../identity/security-event-query.js';
import { SECURITY_SEVERITIES } from '../../store/records.js';
import type { SecuritySeverity, StoredSecurityEvent } from '../../store/records.js';
import { withVault } from '../vault-session.js';

interface ListOptions {
  config?: string;
  type?: string;
  severity?: string;
  minSeverity?: string;
  ip?: string;
  route?: string;
  since?: string;
  until?: string;
  limit: string;
  cursor?: string;
  json?: boolean;
}

function usage(message: string): VigilError {
  return new VigilError('VGL_CLI_USAGE', message);
}

function severity(option: string, text: string | undefined): SecuritySeverity | undefined {
  if (text === undefined) return undefined;
  if (!isSecuritySeverity(text)) throw usage(`${option}: '${text}' is not one of ${SECURITY_SEVERITIES.join(', ')}`);
  return text;
}

/** An ISO 8601 time or epoch milliseconds, as the admin API takes it, or a duration meaning that long ago (`24h`). */
function instant(option: string, text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const ago = parseDuration(text);
  const at = ago === undefined ? parseInstant(text) : now - ago;
  if (at === undefined) throw usage(`${option}: '${text}' is not an ISO 8601 time, epoch milliseconds or a duration like 24h`);
  return at;
}

function integer(option: string, text: string, max: number): number {
  const n = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw usage(`${option}: '${text}' is not a whole number from 1 to ${max}`);
  return n;
}

/** Attacker-chosen text (a username tried at login, a refused path) must not drive the operator's terminal. */
function cell(text: string | null): string {
  if (text === null || text === '') return '-';
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function printTable(page: SecurityEventPage): void {
  const head = ['ID', 'TIME', 'SEVERITY', 'TYPE', 'SOURCE IP', 'ROUTE', 'IDENTITY', 'REQUEST ID', 'DETAILS'];
  const rows = page.events.map((e: StoredSecurityEvent) => [
    String(e.id),
    new Date(e.at).toISOString(),
    e.severity,
    cell(e.type),
    cell(e.sourceIp),
    cell(e.route),
    cell(e.identity),
    cell(e.correlationId),
    cell(JSON.stringify(e.details)),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  if (page.nextCursor !== null) console.error(`more: --cursor ${page.nextCursor}`);
}

export async function runList(opts: ListOptions): Promise<void> {
  const now = Date.now();
  const query = {
    type: opts.type,
    severity: severity('--severity', opts.severity),
    minSeverity: severity('--min-severity', opts.minSeverity),
    sourceIp: opts.ip,
    route: opts.route,
    since: instant('--since', opts.since, now),
    until: instant('--until', opts.until, now),
    before: opts.cursor === undefined ? undefined : integer('--cursor', opts.cursor, Number.MAX_SAFE_INTEGER),
    limit: integer('--limit', opts.limit, EVENTS_PAGE_MAX),
  };
  const page = await withVault(opts.config, (session) => securityEventPage(session.store.securityEvents, query));
  if (opts.json) console.log(JSON.stringify(page));
  else printTable(page);
}
