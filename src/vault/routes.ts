import type { FastifyInstance, FastifyRequest } from 'fastify';
import { installAdminErrors } from '../console/admin-errors.js';
import { MAX_SECRET_BYTES } from './secret-store.js';
import type { Actor, SecretStore } from './secret-store.js';

const NAME_PARAMS = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$' } },
} as const;

const actor = (request: FastifyRequest): Actor => ({ actor: request.principal?.user.username ?? 'anonymous', sourceIp: request.ip });

/**
 * The secret store over the admin API (`secrets:read` / `secrets:write`). Values travel only in
 * request and response bodies (never URLs, which end up in access logs), and every write and
 * reveal is audited by the store itself, fail-closed.
 */
export function registerSecretRoutes(app: FastifyInstance, secrets: SecretStore): void {
  void app.register(async (scope) => {
    installAdminErrors(scope);
    scope.get('/api/v1/secrets', { config: { permission: 'secrets:read' } }, async () => ({ secrets: await secrets.list() }));

    scope.get<{ Params: { name: string } }>(
      '/api/v1/secrets/:name/versions',
      { config: { permission: 'secrets:read' }, schema: { params: NAME_PARAMS } },
      async (request) => ({ versions: await secrets.versions(request.params.name) }),
    );

    scope.post<{ Params: { name: string }; Body: { version?: number } }>(
      '/api/v1/secrets/:name/reveal',
      {
        config: { permission: 'secrets:read' },
        schema: {
          params: NAME_PARAMS,
          body: { type: 'object', additionalProperties: false, properties: { version: { type: 'integer', minimum: 1 } } },
        },
      },
      async (request) => {
        const value = await secrets.reveal(request.params.name, actor(request), request.body?.version);
        return { name: request.params.name, value: value.toString('utf8') };
      },
    );

    scope.put<{ Params: { name: string }; Body: { value: string } }>(
      '/api/v1/secrets/:name',
      {
        config: { permission: 'secrets:write' },
        schema: {
          params: NAME_PARAMS,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['value'],
            properties: { value: { type: 'string', minLength: 1, maxLength: MAX_SECRET_BYTES } },
          },
        },
      },
      async (request, reply) => {
        const version = await secrets.set(request.params.name, Buffer.from(request.body.value, 'utf8'), actor(request));
        reply.code(version === 1 ? 201 : 200);
        return { name: request.params.name, version };
      },
    );

    scope.post<{ Params: { name: string }; Body: { version: number } }>(
      '/api/v1/secrets/:name/rollback',
      {
        config: { permission: 'secrets:write' },
        schema: {
          params: NAME_PARAMS,
          body: { type: 'object', additionalProperties: false, required: ['version'], properties: { version: { type: 'integer', minimum: 1 } } },
        },
      },
      async (request) => ({ name: request.params.name, version: await secrets.rollback(request.params.name, request.body.version, actor(request)) }),
    );

    scope.delete<{ Params: { name: string } }>(
      '/api/v1/secrets/:name',
      { config: { permission: 'secrets:write' }, schema: { params: NAME_PARAMS } },
      async (request) => {
        await secrets.delete(request.params.name, actor(request));
        return { deleted: request.params.name };
      },
    );
  });
}
