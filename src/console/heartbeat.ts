import type { FastifyInstance } from 'fastify';
import { ERROR_CATALOGUE } from '../core/errors.js';
import type { HeartbeatBook } from '../monitor/heartbeat-book.js';

const BEARER = /^Bearer ([\x21-\x7e]{1,256})$/;

/**
 * `POST /api/v1/heartbeat/:check` — the push URL of heartbeat checks. Authenticated by the
 * check's own token (not an admin login), so cron jobs and agents can call in with nothing else.
 * An unknown check and a wrong token answer the same 401, so the endpoint does not reveal which
 * checks exist.
 */
export function registerHeartbeatRoute(app: FastifyInstance, book: HeartbeatBook, now: () => number): void {
  app.post<{ Params: { check: string } }>(
    '/api/v1/heartbeat/:check',
    { bodyLimit: 4096, config: { permission: 'public' } },
    async (req, reply) => {
      const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
      const verdict = token === undefined ? 'bad-token' : book.ping(req.params.check.slice(0, 64), token, now());
      if (verdict === 'accepted') return { status: 'ok' };
      const code = 'VGL_MONITOR_HEARTBEAT_UNAUTHORIZED';
      reply.code(ERROR_CATALOGUE[code].status);
      return { error: { code, message: 'unknown heartbeat check or wrong token (send Authorization: Bearer <token>)', requestId: req.id } };
    },
  );
}
