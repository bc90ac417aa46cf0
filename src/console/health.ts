import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CheckResult, CheckStatus } from '../store/records.js';

/** A configured check and its latest result (undefined before the first run). */
export interface HealthCheckState {
  name: string;
  readiness: boolean;
  result: CheckResult | undefined;
}

/** What the health endpoints read. The monitor service is one. */
export interface HealthSource {
  /** Resolves when the store answers a trivial query. */
  pingStore(): Promise<void>;
  health(): readonly HealthCheckState[];
}

/** How long `/readyz` and `/healthz` wait for the store before calling it down. */
const STORE_PING_TIMEOUT_MS = 1000;

type CheckReport =
  | { status: CheckStatus; latencyMs: number; detail: string; at: string }
  | { status: 'unknown'; latencyMs: null; detail: string; at: null };

/**
 * `/readyz`: 200 when the store answers and every `readiness: true` check is up (a check that has
 * not run yet is not up), else 503 with the reasons; load balancers route on this.
 * `/healthz`: every check's latest result; 200 only when all are up and the store answers.
 */
export function registerHealthRoutes(app: FastifyInstance, source: HealthSource): void {
  const readyz = async (_req: FastifyRequest, reply: FastifyReply) => {
    const reasons: string[] = [];
    const store = await pingStore(source);
    if (store !== undefined) reasons.push(`store: ${store}`);
    for (const check of source.health()) {
      if (!check.readiness) continue;
      if (check.result === undefined) reasons.push(`check ${check.name}: no result yet`);
      else if (check.result.status !== 'up') reasons.push(`check ${check.name}: ${check.result.detail}`);
    }
    reply.code(reasons.length === 0 ? 200 : 503);
    return reasons.length === 0 ? { status: 'ready' } : { status: 'not ready', reasons };
  };

  const healthz = async (_req: FastifyRequest, reply: FastifyReply) => {
    const storeProblem = await pingStore(source);
    const checks: Record<string, CheckReport> = {};
    let allUp = storeProblem === undefined;
    for (const { name, result } of source.health()) {
      if (result === undefined) {
        checks[name] = { status: 'unknown', latencyMs: null, detail: 'no result yet', at: null };
        allUp = false;
        continue;
      }
      checks[name] = { status: result.status, latencyMs: Math.round(result.latencyMs * 10) / 10, detail: result.detail, at: new Date(result.at).toISOString() };
      if (result.status !== 'up') allUp = false;
    }
    reply.code(allUp ? 200 : 503);
    return {
      status: allUp ? 'ok' : 'degraded',
      store: storeProblem === undefined ? { status: 'up' } : { status: 'down', detail: storeProblem },
      checks,
    };
  };

  /** Only the dependencies (store and checks) with up/down, for callers that want no detail text. */
  const dependencies = async (_req: FastifyRequest, reply: FastifyReply) => {
    const storeProblem = await pingStore(source);
    const deps: Record<string, CheckStatus | 'unknown'> = { store: storeProblem === undefined ? 'up' : 'down' };
    for (const { name, result } of source.health()) deps[`check:${name}`] = result === undefined ? 'unknown' : result.status;
    const allUp = Object.values(deps).every((status) => status === 'up');
    reply.code(allUp ? 200 : 503);
    return { status: allUp ? 'ok' : 'degraded', dependencies: deps };
  };

  // The Kubernetes names, plus the names the seed deployments already probe (aliases, same answers).
  for (const path of ['/readyz', '/ready', '/api/health/ready', '/api/v1/health/ready']) app.get(path, { config: { permission: 'public' } }, readyz);
  for (const path of ['/healthz', '/health', '/api/health/detailed', '/api/v1/health/detailed']) app.get(path, { config: { permission: 'public' } }, healthz);
  for (const path of ['/api/health/dependencies', '/api/v1/health/dependencies']) app.get(path, { config: { permission: 'public' } }, dependencies);
}

/** Undefined when the store answered in time, else why not (the error code only, never SQL). */
async function pingStore(source: HealthSource): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${STORE_PING_TIMEOUT_MS}ms`), STORE_PING_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      source.pingStore().then(
        () => undefined,
        (err: unknown) => `unavailable (${(err as { code?: unknown }).code ?? 'error'})`,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
