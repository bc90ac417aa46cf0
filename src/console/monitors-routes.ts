import type { FastifyInstance, FastifyReply } from 'fastify';
import { ERROR_CATALOGUE } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';
import type { MonitorService } from '../monitor/monitor-service.js';

const DAY = 86_400_000;
const MAX_LIMIT = 5000;
const MAX_RAW_SPAN = 31 * DAY;
const MAX_HOURLY_SPAN = 800 * DAY;

interface HistoryQuery {
  from?: string;
  to?: string;
  resolution?: string;
  limit?: string;
}

/**
 * The monitor admin API (permission `monitors:read`):
 * `GET /api/v1/monitors` — every check with its latest result, uptime over 24h/7d/30d and latency percentiles;
 * `GET /api/v1/monitors/:name/history` — raw results or hourly rollups over a time range.
 */
export function registerMonitorRoutes(app: FastifyInstance, monitor: MonitorService, now: () => number): void {
  registerSystemHistoryRoute(app, monitor, now);
  app.get('/api/v1/monitors', { config: { permission: 'monitors:read' } }, async () => {
    const at = now();
    const monitors = [];
    for (const { name, readiness, result } of monitor.health()) {
      monitors.push({
        name,
        type: monitor.typeOf(name),
        readiness,
        status: result?.status ?? 'unknown',
        detail: result?.detail ?? 'no result yet',
        at: result === undefined ? null : new Date(result.at).toISOString(),
        latencyMs: result === undefined ? null : Math.round(result.latencyMs * 10) / 10,
        value: result?.value ?? null,
        uptime: await monitor.history.uptimes(name, at),
        latency24h: await monitor.history.latency24h(name, at),
      });
    }
    return { monitors };
  });

  app.get<{ Params: { name: string }; Querystring: HistoryQuery }>(
    '/api/v1/monitors/:name/history',
    { config: { permission: 'monitors:read' } },
    async (req, reply) => {
      const { name } = req.params;
      if (monitor.typeOf(name) === undefined) return fail(reply, 'VGL_MONITOR_CHECK_NOT_FOUND', `no check named '${name.slice(0, 64)}'`, req.id);
      const at = now();
      const to = parseTime(req.query.to, at);
      const from = parseTime(req.query.from, (to ?? at) - DAY);
      const resolution = req.query.resolution ?? 'raw';
      const limit = req.query.limit === undefined ? 1000 : Number(req.query.limit);
      const problem =
        from === undefined ? "'from' must be an ISO 8601 time or milliseconds since the epoch"
        : to === undefined ? "'to' must be an ISO 8601 time or milliseconds since the epoch"
        : from >= to ? "'from' must be before 'to'"
        : resolution !== 'raw' && resolution !== 'hour' ? "'resolution' must be raw or hour"
        : !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT ? `'limit' must be an integer from 1 to ${MAX_LIMIT}`
        : to - from > (resolution === 'raw' ? MAX_RAW_SPAN : MAX_HOURLY_SPAN) ? `the range is too long for resolution ${resolution} (at most ${resolution === 'raw' ? 31 : 800} days)`
        : undefined;
      if (problem !== undefined || from === undefined || to === undefined) return fail(reply, 'VGL_MONITOR_BAD_QUERY', problem ?? 'bad query', req.id);
      const range = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
      if (resolution === 'hour') {
        const rollups = (await monitor.history.rollups(name, from, to)).slice(-limit);
        return { check: name, resolution, ...range, rollups: rollups.map(({ check: _c, hour, ...rest }) => ({ hour: new Date(hour).toISOString(), ...rest })) };
      }
      const results = await monitor.history.results(name, from, to + 1, limit);
      return { check: name, resolution, ...range, results: results.map(({ check: _c, at: when, ...rest }) => ({ at: new Date(when).toISOString(), ...rest })) };
    },
  );
}

/** `GET /api/v1/system/history?from=&to=&limit=` — host and process samples (permission `monitors:read`). */
export function registerSystemHistoryRoute(app: FastifyInstance, monitor: MonitorService, now: () => number): void {
  app.get<{ Querystring: HistoryQuery }>('/api/v1/system/history', { config: { permission: 'monitors:read' } }, async (req, reply) => {
    const to = parseTime(req.query.to, now());
    const from = parseTime(req.query.from, (to ?? now()) - DAY);
    const limit = req.query.limit === undefined ? 1440 : Number(req.query.limit);
    const problem =
      from === undefined || to === undefined ? "'from' and 'to' must be ISO 8601 times or milliseconds since the epoch"
      : from >= to ? "'from' must be before 'to'"
      : !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT ? `'limit' must be an integer from 1 to ${MAX_LIMIT}`
      : to - from > MAX_RAW_SPAN ? 'the range is too long (at most 31 days)'
      : undefined;
    if (problem !== undefined || from === undefined || to === undefined) return fail(reply, 'VGL_MONITOR_BAD_QUERY', problem ?? 'bad query', req.id);
    const samples = await monitor.systemSamples(from, to + 1, limit);
    return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), samples: samples.map(({ at, ...rest }) => ({ at: new Date(at).toISOString(), ...rest })) };
  });
}

/** Milliseconds from an ISO time or a number; the fallback when absent; undefined when malformed. */
function parseTime(raw: string | undefined, fallback: number): number | undefined {
  if (raw === undefined || raw === '') return fallback;
  if (raw.length > 40) return undefined;
  const ms = /^\d{1,15}$/.test(raw) ? Number(raw) : Date.parse(raw);
  return Number.isFinite(ms) ? ms : undefined;
}

function fail(reply: FastifyReply, code: ErrorCode, message: string, requestId: string) {
  reply.code(ERROR_CATALOGUE[code].status);
  return { error: { code, message, requestId } };
}
