import type { FastifyInstance } from 'fastify';
import { VigilError } from '../core/errors.js';
import type { SecurityEventRepository } from '../store/store.js';
import type { SecuritySeverity } from '../store/records.js';

interface EventsQuery {
  type?: string;
  severity?: SecuritySeverity;
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
  const at = /^\d{1,16}$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(at)) throw new VigilError('VGL_CONSOLE_BAD_REQUEST', `request querystring: ${name} must be an ISO 8601 time or epoch milliseconds`);
  return at;
}

/**
 * `GET /api/v1/security/events`: stored security events, newest first, filtered by type, severity,
 * source IP, route and time range (`since` inclusive, `until` exclusive), `limit` per page; the
 * answer's `nextCursor` fetches the next (older) page. Details are stored with PII already masked.
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
            severity: { type: 'string', enum: ['low', 'medium', 'high', 'critical'] },
            ip: { type: 'string', minLength: 1, maxLength: 64 },
            route: { type: 'string', minLength: 1, maxLength: 300 },
            since: { type: 'string', maxLength: 40 },
            until: { type: 'string', maxLength: 40 },
            cursor: { type: 'integer', minimum: 1 },
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 100;
      const found = await events.query({
        type: q.type,
        severity: q.severity,
        sourceIp: q.ip,
        route: q.route,
        since: instant(q.since, 'since'),
        until: instant(q.until, 'until'),
        before: q.cursor,
        limit,
      });
      return { events: found, nextCursor: found.length === limit ? (found.at(-1)?.id ?? null) : null };
    },
  );
}
