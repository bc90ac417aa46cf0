import type { FastifyInstance } from 'fastify';
import { keyActive } from '../identity/api-keys.js';
import type { Identity } from '../identity/index.js';
import type { ApiKey } from '../store/records.js';
import { audited } from './admin-errors.js';

const SCOPE = '^[a-z0-9][a-z0-9:_.*-]{0,63}$';

function publicKey({ hash: _hash, ...key }: ApiKey, now: number): Omit<ApiKey, 'hash'> & { active: boolean } {
  return { ...key, active: keyActive({ ...key, hash: '' }, now) };
}

const LABEL = '^[\\x21-\\x7e][\\x20-\\x7e]{0,63}$';
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[a-z2-7]{12}$' } } } as const;

/** API keys over the admin API: the same operations as `vigil keys`, never exposing a stored hash. */
export function registerKeyRoutes(scope: FastifyInstance, identity: Identity, now: () => number): void {
  scope.get('/api/v1/keys', { config: { permission: 'keys:read' } }, async () => ({ keys: (await identity.store.keys.list()).map((k) => publicKey(k, now())) }));

  scope.post<{ Body: { name: string; owner?: string; scopes?: string[]; expiresInSeconds?: number } }>(
    '/api/v1/keys',
    {
      config: { permission: 'keys:write' },
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: { type: 'string', pattern: LABEL },
            owner: { type: 'string', pattern: LABEL },
            scopes: { type: 'array', maxItems: 64, items: { type: 'string', pattern: SCOPE } },
            expiresInSeconds: { type: 'integer', minimum: 1, maximum: 10 * 365 * 86_400 },
          },
        },
      },
    },
    async (request, reply) => {
      const { name, owner = null, scopes = [], expiresInSeconds } = request.body;
      const created = await audited(identity, request, { action: 'keys.create', target: name, details: { scopes, owner } }, now, () =>
        identity.keys.create({ name, scopes, owner, expiresAt: expiresInSeconds === undefined ? null : now() + expiresInSeconds * 1000, now: now() }),
      );
      reply.code(201);
      // The only time the key is shown.
      return { key: publicKey(created.key, now()), plaintext: created.plaintext };
    },
  );

  scope.delete<{ Params: { id: string } }>(
    '/api/v1/keys/:id',
    { config: { permission: 'keys:write' }, schema: { params: idParams } },
    async (request) => {
      const { id } = request.params;
      await audited(identity, request, { action: 'keys.revoke', target: id }, now, () => identity.keys.revoke(id, now()));
      return { revoked: id };
    },
  );

  scope.post<{ Params: { id: string }; Body: { graceSeconds?: number } }>(
    '/api/v1/keys/:id/rotate',
    {
      config: { permission: 'keys:write' },
      schema: { params: idParams, body: { type: 'object', additionalProperties: false, properties: { graceSeconds: { type: 'integer', minimum: 0, maximum: 30 * 86_400 } } } },
    },
    async (request, reply) => {
      const { id } = request.params;
      const graceSeconds = request.body?.graceSeconds ?? 86_400;
      const rotated = await audited(identity, request, { action: 'keys.rotate', target: id, details: { graceSeconds } }, now, () =>
        identity.keys.rotate(id, graceSeconds * 1000, now()),
      );
      reply.code(201);
      return { key: publicKey(rotated.key, now()), plaintext: rotated.plaintext, oldKeyEndsAt: rotated.oldKeyEndsAt };
    },
  );
}
