import type { Stage } from './context.js';
import type { GatewayDeps } from './server.js';
import type { CompiledRoute } from './router.js';
import { authenticate } from './stages/authenticate.js';
import { authorize, hasRules } from './stages/authorize.js';
import { piiPolicy } from './stages/pii-policy.js';
import { corsPreflight } from '../protection/cors.js';
import { hygieneStage, jsonBodyStage } from '../protection/hygiene.js';

/**
 * A route's stages in the order a request meets them: IP filters and bans, protocol hygiene, CORS
 * preflight, limits by address, authentication and authorization, limits by identity, then the
 * body checks and PII transforms. Built once per route and configuration load.
 */
export function compilePipeline(route: CompiledRoute, deps: GatewayDeps): Stage[] {
  const stages: Stage[] = [];
  const protection = deps.protection?.compile(route, deps.config);
  // 1: IP filters and bans, before anything else is spent on the request.
  if (protection) stages.push(...protection.entry);
  // 2: protocol hygiene (OPTIONS outside preflights, path, content type, UTF-8 of headers and query).
  stages.push(hygieneStage(route.config, route.cors !== undefined, deps));
  // 3: CORS preflight, answered here without reaching the upstream.
  if (route.cors) stages.push(corsPreflight(route.cors, route.securityHeaders, deps));
  // 4: limits keyed by client address, before authentication's work.
  if (protection) stages.push(...protection.preAuth);
  const { auth } = route.config;
  if (auth !== 'none') {
    const events = deps.securityEvents;
    stages.push(authenticate(auth, route.config.jwtIssuers, { keys: deps.keys, clock: deps.clock, jwt: deps.jwt, events }));
    if (hasRules(route.config)) stages.push(authorize(route.config, events, deps.clock));
  }
  // 7: identity bans, limits keyed by key, user or header, and concurrency limits.
  if (protection) stages.push(...protection.postAuth);
  // 8: body checks (JSON limits on the body as it streams upstream), then PII transforms.
  if (route.config.hygiene.json.enabled) stages.push(jsonBodyStage(route.config.hygiene.json, deps));
  const pii = piiPolicy(route, deps);
  if (pii) stages.push(pii);
  return stages;
}
