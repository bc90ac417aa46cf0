import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditSink } from '../audit/sink.js';
import { withAudit } from '../audit/with-audit.js';
import { verifyAckToken } from '../alerting/ack.js';
import type { AlertingService } from '../alerting/alerting-service.js';
import { alertDetail, createSilence, expireSilence, silenceState } from '../alerting/silences.js';
import { parseDuration } from '../core/duration.js';
import { isVigilError, VigilError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { installAdminErrors } from './admin-errors.js';

export interface AlertRoutesDeps {
  alerting: AlertingService;
  store: Store;
  audit: AuditSink;
  /** Key of signed acknowledge links. */
  ackKey: Buffer;
  now: () => number;
}

const DAY = 86_400_000;
const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } as const;

const who = (request: FastifyRequest) => ({ actor: request.principal?.user.username ?? 'anonymous', sourceIp: request.ip });

function time(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(value)) throw new VigilError('VGL_CONSOLE_BAD_REQUEST', `'${text.slice(0, 40)}' is not an ISO 8601 time or milliseconds since the epoch`);
  return value;
}

/**
 * Alerts over the admin API: open alerts, history, acknowledgement (`alerts:ack`) and silences
 * (`alerts:silence`), every change audited; plus the unauthenticated signed acknowledge link.
 */
export function registerAlertRoutes(app: FastifyInstance, deps: AlertRoutesDeps): void {
  const { alerting, store, audit, now } = deps;
  void app.register(async (scope) => {
    installAdminErrors(scope);
    scope.get('/api/v1/alerts', { config: { permission: 'alerts:read' } }, async () => ({ alerts: await store.alerts.open() }));

    scope.get<{ Querystring: { alert?: string; from?: string; to?: string; limit?: string } }>('/api/v1/alerts/history', { config: { permission: 'alerts:read' } }, async (request) => {
      const to = time(request.query.to, now());
      const from = time(request.query.from, to - DAY);
      const limit = Math.min(5000, Math.max(1, Number(request.query.limit ?? 500) || 500));
      const events = await store.alertLog.events({ ...(request.query.alert ? { alertId: request.query.alert } : {}), from, to, limit });
      const attempts = request.query.alert ? [] : await store.alertLog.recentAttempts(from, to, limit);
      return { events, attempts };
    });

    scope.get<{ Params: { id: string } }>('/api/v1/alerts/:id', { config: { permission: 'alerts:read' }, schema: { params: ID_PARAMS } }, async (request) => alertDetail(store, request.params.id));

    scope.post<{ Params: { id: string }; Body: { comment?: string } | undefined }>(
      '/api/v1/alerts/:id/ack',
      {
        config: { permission: 'alerts:ack' },
        schema: { params: ID_PARAMS, body: { type: ['object', 'null'], additionalProperties: false, properties: { comment: { type: 'string', maxLength: 500 } } } },
      },
      async (request) => {
        const actor = who(request);
        const event = { at: now(), ...actor, action: 'alerts.ack', target: request.params.id };
        const result = await withAudit(audit, event, () => alerting.acknowledge(request.params.id, actor.actor, 'api', request.body?.comment ?? ''));
        return { alert: result.alert.id, acknowledged: true, already: result.already };
      },
    );

    scope.get<{ Querystring: { all?: string } }>('/api/v1/silences', { config: { permission: 'alerts:read' } }, async (request) => {
      const at = now();
      const list = await store.silences.list(request.query.all === 'true' ? 0 : at);
      return { silences: list.map((s) => ({ ...s, state: silenceState(s, at) })) };
    });

    scope.post<{ Body: { matchers: string[]; startsAt?: string; endsAt?: string; duration?: string; comment: string } }>(
      '/api/v1/silences',
      {
        config: { permission: 'alerts:silence' },
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['matchers', 'comment'],
            properties: {
              matchers: { type: 'array', items: { type: 'string', maxLength: 300 }, maxItems: 32 },
              startsAt: { type: 'string' },
              endsAt: { type: 'string' },
              duration: { type: 'string' },
              comment: { type: 'string', maxLength: 500 },
            },
          },
        },
      },
      async (request, reply) => {
        const at = now();
        const body = request.body;
        const startsAt = time(body.startsAt, at);
        const length = body.duration === undefined ? undefined : parseDuration(body.duration);
        if (body.duration !== undefined && length === undefined) throw new VigilError('VGL_SILENCE_INVALID', `duration '${body.duration.slice(0, 40)}' is not like 2h`);
        if (body.endsAt === undefined && length === undefined) throw new VigilError('VGL_SILENCE_INVALID', 'give endsAt or duration');
        const endsAt = body.endsAt !== undefined ? time(body.endsAt, at) : startsAt + (length as number);
        const actor = who(request);
        const event = { at, ...actor, action: 'alerts.silence.create', target: body.matchers.join(','), details: { endsAt } };
        const silence = await withAudit(audit, event, () => createSilence(store, { matchers: body.matchers, startsAt, endsAt, author: actor.actor, comment: body.comment }, at));
        void alerting.tick();
        return reply.code(201).send({ silence });
      },
    );

    scope.delete<{ Params: { id: string } }>('/api/v1/silences/:id', { config: { permission: 'alerts:silence' }, schema: { params: ID_PARAMS } }, async (request) => {
      const event = { at: now(), ...who(request), action: 'alerts.silence.expire', target: request.params.id };
      await withAudit(audit, event, () => expireSilence(store, request.params.id, now()));
      void alerting.tick();
      return { expired: request.params.id };
    });
  });

  // The signed link: no session, and it can do exactly one thing — acknowledge that alert's outage.
  // GET only shows a confirmation (mail scanners follow links); the button POSTs.
  app.get<{ Params: { token: string } }>('/alerts/ack/:token', async (request, reply) => {
    try {
      const { alertId } = verifyAckToken(deps.ackKey, request.params.token, now());
      return page(reply, 200, 'Acknowledge alert', `<p>Acknowledge alert <b>${escape(alertId)}</b>? Its escalation stops and its receivers are told.</p><form method="post"><button type="submit">Acknowledge</button></form>`);
    } catch (err) {
      return failure(reply, err);
    }
  });
  app.post<{ Params: { token: string } }>('/alerts/ack/:token', async (request, reply) => {
    try {
      const { alertId, episode } = verifyAckToken(deps.ackKey, request.params.token, now());
      const event = { at: now(), actor: 'ack-link', sourceIp: request.ip, action: 'alerts.ack', target: alertId, details: { via: 'link' } };
      const result = await withAudit(audit, event, () => alerting.acknowledge(alertId, 'ack-link', 'link', `from ${request.ip}`, episode));
      return page(reply, 200, 'Alert acknowledged', `<p>Alert <b>${escape(alertId)}</b> ${result.already ? 'was already acknowledged' : 'is acknowledged'}.</p>`);
    } catch (err) {
      return failure(reply, err);
    }
  });
}

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', "default-src 'none'; form-action 'self'")
    .send(`<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`);
}

function failure(reply: FastifyReply, err: unknown): FastifyReply {
  if (!isVigilError(err)) throw err;
  return page(reply, err.status, 'Cannot acknowledge', `<p>${escape(err.code)}: ${escape(err.message)}</p>`);
}
