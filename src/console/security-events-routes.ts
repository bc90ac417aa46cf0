import type { FastifyInstance } from 'fastify';
import { VigilError } from '../core/errors.js';
import { EVENTS_PAGE_DEFAULT, EVENTS_PAGE_MAX, parseInstant, securityEventPage } from '../identity/security-event-query.js';
import { SECURITY_SEVERITIES } from '../store/records.js';
import type { SecurityEventRepository } from '../store/store.js';
import type { SecuritySeverity } from '../store/records.js';

interface EventsQuery {
  type?: string;
  severity?: SecuritySeverity;
  minSeverity?: SecuritySeverity;
  ip?: string;
  route?: string;
  since?: string;
  until?: string;
  cursor?: number;
  limit?: number;
}

/** `2026-11-23T21:00:00Z` or epoch milliseconds; a coded 400 naming the parameter otherwise. */
function instant(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const at = parseInstant(value);
  if (at === undefined) throw new VigilError('VGL_CONSOLE_BAD_REQUEST', `request querystring: ${name} must be an ISO 8601 time or epoch milliseconds`);
  return at;
}

/**
 * `GET /api/v1/security/events`: stored security events, newest first, filtered by type, severity
 * (exact or minimum), source IP, route and time range (`since` inclusive, `until` exclusive), `limit`
 * per page; the answer's `nextCursor` fetches the next (older) page. Details are stored with PII
 * already masked. `vigil events list` reads the same page.
 */
export function registerSecurityEventRoutes(scope: FastifyInstance, events: SecurityEventRepository): void {
  scope.get<{ Querystring: EventsQuery }>(
    '/api/v1/security/events',
    {
      config: { permission: 'security:read' },
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            type: { type: 'string', minLength: 1, maxLength: 64 },
            severity: { type: 'string', enum: SECURITY_SEVERITIES },
            minSeverity: { type: 'string', enum: SECURITY_SEVERITIES },
            ip: { type: 'string', minLength: 1, maxLength: 64 },
            route: { type: 'string', minLength: 1, maxLength: 300 },
            since: { type: 'string', maxLength: 40 },
            until: { type: 'string', maxLength: 40 },
            cursor: { type: 'integer', minimum: 1 },
            limit: { type: 'integer', minimum: 1, maximum: EVENTS_PAGE_MAX },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      return securityEventPage(events, {
        type: q.type,
        severity: q.severity,
        minSeverity: q.minSeverity,
        sourceIp: q.ip,
        route: q.route,
        since: instant(q.since, 'since'),
        until: instant(q.until, 'until'),
        before: q.cursor,
        limit: q.limit ?? EVENTS_PAGE_DEFAULT,
      });
    },
  );
}
