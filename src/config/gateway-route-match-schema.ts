import { z } from 'zod';

/** Gateway route matching: hosts, path kinds, methods and rewrites, and the checks between routes. */

/** A host name (or IPv4 address) of a route, or `*.` and a domain for any subdomain; no port. */
const HOST = /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const routeHost = z
  .string()
  .max(253)
  .transform((value) => value.toLowerCase().replace(/\.$/, ''))
  .refine((value) => HOST.test(value) || /^\[[0-9a-f:.]+\]$/.test(value), 'must be a host name without port, `*.example.com`, an IPv4 address or a bracketed IPv6 address');

/** A path as the gateway sees it: starts with `/`, no spaces, `?` or `#`. */
export const routePath = z.string().max(2048).regex(/^\/[^\s?#]*$/, "must start with '/' and contain no spaces, '?' or '#'");

/**
 * Pattern segments: `:name` is one non-empty segment, `*name` (last only) the rest of the path;
 * anything else is literal. Returns the capture names, or a message saying what is wrong.
 */
export function patternCaptures(pattern: string): { names: string[] } | { error: string } {
  const segments = pattern.slice(1).split('/');
  const names: string[] = [];
  for (const [i, segment] of segments.entries()) {
    const kind = segment[0];
    if (kind !== ':' && kind !== '*') {
      if (segment.includes('*')) return { error: `segment '${segment}': '*' is only allowed as '*name' for the rest of the path` };
      continue;
    }
    const captured = segment.slice(1);
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,31}$/.test(captured)) return { error: `segment '${segment}': a capture is ':name' or '*name' (letters, digits, '_')` };
    if (kind === '*' && i !== segments.length - 1) return { error: `'${segment}' must be the last segment` };
    if (names.includes(captured)) return { error: `capture '${captured}' appears twice` };
    names.push(captured);
  }
  return { names };
}

const HTTP_METHOD = /^[A-Z][A-Z-]{0,19}$/;

export const routeMatch = {
  hosts: z
    .array(routeHost)
    .max(100)
    .default([])
    .describe('Host names this route serves (`api.example.com`, or `*.example.com` for any subdomain), compared case-insensitively without the port; empty: any host.'),
  prefix: routePath.optional().describe('Path prefix the route matches (`/agents/` also matches `/agents`); the longest matching prefix wins. One of `prefix`, `path`, `pattern`.'),
  path: routePath.optional().describe('Exact path the route matches (the query is not part of it). One of `prefix`, `path`, `pattern`.'),
  pattern: routePath
    .optional()
    .describe('Path pattern: `:name` matches one segment, a last `*name` the rest of the path, e.g. `/v1/models/:id/chat`, `/files/*rest`. One of `prefix`, `path`, `pattern`.'),
  methods: z
    .array(z.string().transform((value) => value.toUpperCase()).refine((value) => HTTP_METHOD.test(value), 'must be an HTTP method such as GET or POST'))
    .max(20)
    .default([])
    .describe('Methods this route serves (`GET` also serves `HEAD`); empty: any method. Another method on a matching path gets 405 when no other route takes it.'),
  stripPrefix: z.boolean().default(false).describe('Remove the prefix before forwarding (`/agents/run` → `/run`); same as `rewrite.prefix: /`. `prefix` routes only.'),
  rewrite: z
    .strictObject({
      prefix: routePath.optional().describe('Replaces the matched `prefix` (`prefix: /old/` with `rewrite.prefix: /new` sends `/old/x` as `/new/x`). `prefix` routes only.'),
      path: routePath
        .optional()
        .describe('Upstream path built from the `pattern` captures (`/v2/:id/completions`, `/store/*rest`) or a fixed path for a `path` route. The query is kept.'),
    })
    .optional()
    .describe('Changes the path sent upstream (the target URL path is still put in front).'),
};

/** Exactly one of prefix/path/pattern; rewrites that fit the kind and name known captures. */
export function checkRouteMatch(
  route: { prefix?: string | undefined; path?: string | undefined; pattern?: string | undefined; stripPrefix: boolean; rewrite?: { prefix?: string | undefined; path?: string | undefined } | undefined },
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  const kinds = (['prefix', 'path', 'pattern'] as const).filter((k) => route[k] !== undefined);
  if (kinds.length !== 1) {
    ctx.addIssue({ code: 'custom', path: [...path, kinds[1] ?? 'prefix'], message: 'set exactly one of `prefix`, `path` and `pattern`' });
    return;
  }
  const kind = kinds[0];
  const { rewrite } = route;
  if (kind !== 'prefix' && route.stripPrefix) ctx.addIssue({ code: 'custom', path: [...path, 'stripPrefix'], message: '`stripPrefix` needs a `prefix` route' });
  if (rewrite?.prefix !== undefined && (kind !== 'prefix' || route.stripPrefix)) {
    ctx.addIssue({ code: 'custom', path: [...path, 'rewrite', 'prefix'], message: '`rewrite.prefix` needs a `prefix` route without `stripPrefix`' });
  }
  if (rewrite?.path !== undefined && kind === 'prefix') {
    ctx.addIssue({ code: 'custom', path: [...path, 'rewrite', 'path'], message: '`rewrite.path` needs a `path` or `pattern` route (use `rewrite.prefix` on a `prefix` route)' });
  }
  let names: string[] = [];
  if (kind === 'pattern') {
    const parsed = patternCaptures(route.pattern as string);
    if ('error' in parsed) {
      ctx.addIssue({ code: 'custom', path: [...path, 'pattern'], message: parsed.error });
      return;
    }
    names = parsed.names;
  }
  if (rewrite?.path !== undefined && kind !== 'prefix') {
    const template = patternCaptures(rewrite.path);
    if ('error' in template) ctx.addIssue({ code: 'custom', path: [...path, 'rewrite', 'path'], message: template.error });
    else {
      const unknown = template.names.find((n) => !names.includes(n));
      if (unknown !== undefined) ctx.addIssue({ code: 'custom', path: [...path, 'rewrite', 'path'], message: `'${unknown}' is not a capture of the route's pattern` });
    }
  }
}

type MatchFields = { name: string; hosts: readonly string[]; prefix?: string | undefined; path?: string | undefined; pattern?: string | undefined; methods: readonly string[] };

/** A route that takes exactly the same requests as an earlier one could never match: refused. */
export function checkShadowedRoutes(routes: readonly MatchFields[], ctx: z.RefinementCtx): void {
  const seen = new Map<string, string>();
  routes.forEach((route, i) => {
    const key = JSON.stringify([[...route.hosts].sort(), route.prefix, route.path, route.pattern, [...route.methods].sort()]);
    const earlier = seen.get(key);
    const field = route.prefix !== undefined ? 'prefix' : route.path !== undefined ? 'path' : 'pattern';
    if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: ['gateway', 'routes', i, field], message: `same hosts, ${field} and methods as route '${earlier}', so it could never match` });
    else seen.set(key, route.name);
  });
}
