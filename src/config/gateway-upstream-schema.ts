import { z } from 'zod';
import { duration, HEADER_NAME, httpUrl } from './schema-parts.js';
import { conditions as checkConditions } from './check-schemas.js';
import { HEADER_VALUE } from './gateway-headers-schema.js';
import { routePath } from './gateway-route-match-schema.js';

/** Gateway upstreams of a route: targets, balancing, breaker, retries, timeouts and active health checks. */

const upstreamTarget = z.strictObject({
  url: httpUrl.describe('Base URL of this target; its path is prepended to every forwarded path.'),
  weight: z.number().int().min(1).max(1000).default(1).describe('Share of requests relative to the other targets (round-robin and least-in-flight).'),
  fallback: z.boolean().default(false).describe('Used only while no non-fallback target is available (all ejected or open).'),
});

export const routeUpstreams = z
  .strictObject({
    targets: z.array(upstreamTarget).max(100).default([]).describe('Several upstream targets instead of one `upstream`.'),
    balance: z
      .enum(['round-robin', 'least-in-flight', 'peak-ewma'])
      .default('round-robin')
      .describe('`round-robin` (smooth, weighted), `least-in-flight` (fewest open requests per weight) or `peak-ewma` (power of two choices on latency × load).'),
    breaker: z
      .strictObject({
        failures: z.number().int().min(1).max(1000).default(5).describe('Consecutive failures (connect errors, resets, timeouts, 502/503/504) that eject a target (open its breaker).'),
        openFor: duration.prefault('10s').describe('How long the first ejection lasts; then one probe request is let through (half-open).'),
        maxOpenFor: duration.prefault('5m').describe('Each repeated ejection doubles `openFor`, up to this.'),
      })
      .prefault({}),
    retry: z
      .strictObject({
        attempts: z.number().int().min(0).max(10).default(2).describe('Retries after the first try (0: none). Only before any response byte reached the client.'),
        backoff: duration.prefault('25ms').describe('Base delay before a retry; doubles per retry, with full jitter.'),
        maxBackoff: duration.prefault('1s').describe('Longest delay before a retry.'),
        budget: z.number().min(0).max(1).default(0.2).describe('Retries allowed as a share of the route’s requests over the last 10-20 s (at least 10 per window), against retry storms.'),
        nonIdempotent: z
          .boolean()
          .default(false)
          .describe('Also retry POST/PATCH (and requests with a body) after the request was sent. Off: those are retried only when the connection failed before any byte was sent.'),
      })
      .prefault({}),
  })
  .prefault({})
  .describe('Several targets, balancing, breaker (outlier ejection) and retries.');

/** A route needs exactly one of `upstream` and `upstreams.targets`. */
export function checkRouteUpstreams(
  route: { upstream?: string | undefined; upstreams: { targets: readonly { fallback: boolean }[] } },
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  const targets = route.upstreams.targets;
  if (route.upstream === undefined && targets.length === 0) {
    ctx.addIssue({ code: 'custom', path: [...path, 'upstream'], message: 'set `upstream` or `upstreams.targets`' });
  } else if (route.upstream !== undefined && targets.length > 0) {
    ctx.addIssue({ code: 'custom', path: [...path, 'upstreams', 'targets'], message: 'set either `upstream` or `upstreams.targets`, not both' });
  } else if (targets.length > 0 && targets.every((t) => t.fallback)) {
    ctx.addIssue({ code: 'custom', path: [...path, 'upstreams', 'targets'], message: 'at least one target must not be a fallback' });
  }
}

export const routeTimeouts = z
  .strictObject({
    connect: duration.prefault('5s').describe('Time to open the upstream connection.'),
    response: duration.prefault('60s').describe('Time for the upstream to send its response headers (time to first byte).'),
    idle: duration.prefault('60s').describe('Longest pause between two body chunks from the upstream.'),
    total: duration
      .prefault('0s')
      .describe('Longest whole exchange, streams included; `0s` means none. Checked at the response headers and at every body chunk, so a stalled stream is ended by `idle` at the latest.'),
  })
  .prefault({});

export const routeHealthCheck = z
  .strictObject({
    path: routePath.describe("Path requested on every target (after the target URL's own path), e.g. `/health`."),
    method: z.enum(['GET', 'HEAD']).default('GET').describe('Request method of the probe.'),
    headers: z
      .record(z.string().regex(HEADER_NAME, 'must be an HTTP header name'), z.string().regex(HEADER_VALUE, 'must be one line without CR, LF or NUL, at most 8192 characters'))
      .default({})
      .describe('Extra probe headers, e.g. a token from `${ENV}`.'),
    interval: duration.prefault('10s').describe('Time between two probes of a target.'),
    timeout: duration.prefault('2s').describe('A probe without a complete answer within this counts as failed; at most `interval`.'),
    expectStatus: z.array(z.number().int().min(100).max(599)).min(1).default([200]).describe('Statuses that count as a pass.'),
    conditions: checkConditions(['STATUS', 'BODY', 'RESPONSE_TIME']),
    healthyThreshold: z.number().int().min(1).max(100).default(2).describe('Consecutive passes that put an unhealthy target back into balancing.'),
    unhealthyThreshold: z.number().int().min(1).max(100).default(3).describe('Consecutive failures that take a target out of balancing.'),
  })
  .optional()
  .describe("Active health checks: each target is probed with the monitor's HTTP check; an unhealthy target gets no requests until it passes again. Off when absent.");

/** A probe must end before the next one starts. */
export function checkRouteHealth(route: { healthCheck?: { interval: number; timeout: number } | undefined }, path: (string | number)[], ctx: z.RefinementCtx): void {
  const check = route.healthCheck;
  if (check && (check.timeout > check.interval || check.interval < 100)) {
    ctx.addIssue({ code: 'custom', path: [...path, 'healthCheck', check.interval < 100 ? 'interval' : 'timeout'], message: check.interval < 100 ? 'interval must be at least 100ms' : 'timeout must not exceed interval' });
  }
}
