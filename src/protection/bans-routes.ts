import type { FastifyInstance } from 'fastify';
import { installAdminErrors, audited } from '../console/admin-errors.js';
import type { Identity } from '../identity/index.js';
import type { BanService } from './bans.js';

const TARGET = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' } as const;

/** Bans over the admin API: list (bans:read), ban and lift (bans:write), each change audited. */
export function registerBanRoutes(app: FastifyInstance, bans: BanService, identity: Identity, now: () => number): void {
  void app.register(async (scope) => {
    installAdminErrors(scope);
    scope.get('/api/v1/bans', { config: { permission: 'bans:read' } }, async () => ({ bans: bans.list() }));

    scope.post<{ Body: { target: string; durationSeconds: number; reason?: string } }>(
      '/api/v1/bans',
      {
        config: { permission: 'bans:write' },
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['target', 'durationSeconds'],
            properties: { target: TARGET, durationSeconds: { type: 'integer', minimum: 1, maximum: 365 * 86_400 }, reason: { type: 'string', maxLength: 200 } },
          },
        },
      },
      async (request, reply) => {
        const { target, durationSeconds, reason = 'manual' } = request.body;
        const actor = request.principal?.user.username ?? 'anonymous';
        const ban = await audited(identity, request, { action: 'bans.add', target, details: { durationSeconds, reason } }, now, () => bans.add(target, durationSeconds * 1000, reason, actor));
        reply.code(201);
        return { ban };
      },
    );

    scope.delete<{ Querystring: { target: string } }>(
      '/api/v1/bans',
      { config: { permission: 'bans:write' }, schema: { querystring: { type: 'object', additionalProperties: false, required: ['target'], properties: { target: TARGET } } } },
      async (request) => {
        const { target } = request.query;
        await audited(identity, request, { action: 'bans.remove', target }, now, () => bans.remove(target));
        return { removed: target };
      },
    );
  });
}
