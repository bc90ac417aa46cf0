import { SECURITY_SEVERITIES } from '../store/records.js';
import type { SecurityEventQuery, SecuritySeverity, StoredSecurityEvent } from '../store/records.js';
import type { SecurityEventRepository } from '../store/store.js';

/** The default and the largest page of stored security events, for the admin API and `vigil events list` alike. */
export const EVENTS_PAGE_DEFAULT = 100;
export const EVENTS_PAGE_MAX = 1000;

export function isSecuritySeverity(text: string): text is SecuritySeverity {
  return (SECURITY_SEVERITIES as readonly string[]).includes(text);
}

/** `2026-11-23T21:00:00Z` or epoch milliseconds as epoch milliseconds; undefined when it is neither. */
export function parseInstant(text: string): number | undefined {
  const at = /^\d{1,16}$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isFinite(at) ? at : undefined;
}

export interface SecurityEventPage {
  events: StoredSecurityEvent[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextCursor: number | null;
}

/** One page of stored events, newest first, and the cursor of the next page: what the admin API answers and the CLI prints. */
export async function securityEventPage(repo: SecurityEventRepository, query: SecurityEventQuery): Promise<SecurityEventPage> {
  const events = await repo.query(query);
  return { events, nextCursor: events.length === query.limit ? (events.at(-1)?.id ?? null) : null };
}
