import type { FastifyInstance } from 'fastify';
import type { Identity } from '../identity/index.js';
import type { ApiKey } from '../store/records.js';
import { audited } from './admin-errors.js';

const SCOPE = '^[a-z0-9][a-z0-9:_.*-]{0,63}$';

function publicKey({ hash: _hash, ...key }: ApiKey): Omit<ApiKey, 'hash'> {
  return key;
}

/** API keys over the admin API: the same operations as `vigil keys`, never exposing a stored hash. */
export function registerKeyRoutes(scope: FastifyInstance, identity: Identity, now: () => number): void {
  scope.get('/api/v1/keys', { config: { permission: 'keys:read' } }, async () => ({ keys: (await identity.store.keys.list()).map(publicKey) }));

  scope.post<{ Body: { name: string; scopes?: string[]; expiresInSeconds?: number } }>(
    '/api/v1/keys',
    {
      config: { permission: 'keys:write' },
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: { type: 'string', pattern: '^[\\x21-\\x7e][\\x20-\\x7e]{0,63}$' },
            scopes: { type: 'array', maxItems: 64, items: { type: 'string', pattern: SCOPE } },
            expiresInSeconds: { type: 'integer', minimum: 1, maximum: 10 * 365 * 86_400 },
          },
        },
      },
    },
    async (request, reply) => {
      const { name, scopes = [], expiresInSeconds } = request.body;
      const created = await audited(identity, request, { action: 'keys.create', target: name, details: { scopes } }, now, () =>
        identity.keys.create({ name, scopes, expiresAt: expiresInSeconds === undefined ? null : now() + expiresInSeconds * 1000, now: now() }),
      );
      reply.code(201);
      // The only time the key is shown.
      return { key: publicKey(created.key), plaintext: created.plaintext };
    },
  );

  scope.delete<{ Params: { id: string } }>(
    '/api/v1/keys/:id',
    { config: { permission: 'keys:write' }, schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[a-z2-7]{12}$' } } } } },
    async (request) => {
      const { id } = request.params;
      await audited(identity, request, { action: 'keys.revoke', target: id }, now, () => identity.keys.revoke(id, now()));
      return { revoked: id };
    },
  );
}
