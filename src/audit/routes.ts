import type { FastifyInstance } from 'fastify';
import { installAdminErrors } from '../console/admin-errors.js';
import type { AuditRepository } from '../store/store.js';
import type { AuditLog } from './audit-log.js';

/** The audit log over the admin API (`audit:read`): pages of entries, and a full verification. */
export function registerAuditRoutes(app: FastifyInstance, repo: AuditRepository, log: AuditLog): void {
  void app.register(async (scope) => {
    installAdminErrors(scope);
    scope.get<{ Querystring: { after?: number; limit?: number } }>(
      '/api/v1/audit',
      {
        config: { permission: 'audit:read' },
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { after: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 1000 } },
          },
        },
      },
      async (request) => {
        const entries = await repo.page(request.query.after ?? 0, request.query.limit ?? 100);
        return {
          entries: entries.map((e) => ({ ...e, details: JSON.parse(e.details) as unknown })),
          next: entries.length > 0 ? entries[entries.length - 1]?.seq : null,
        };
      },
    );
    scope.get('/api/v1/audit/verify', { config: { permission: 'audit:read' } }, async () => log.verify());
  });
}
