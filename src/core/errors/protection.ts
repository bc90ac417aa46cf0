import type { ErrorSpec } from '../errors.js';

/** Protection: rate and concurrency limits, IP filters, bans, CORS and CSRF. */
export const PROTECTION_ERRORS = {
  VGL_RATE_LIMITED: {
    status: 429,
    cause: 'The client exceeded one of the route’s rate limits (`rateLimits.limits`); the message names the limit.',
    fix: 'Wait for the `Retry-After` seconds before retrying; the `RateLimit` headers show the remaining quota. Operators can raise the limit in the route config.',
  },
  VGL_CONCURRENCY_LIMITED: {
    status: 429,
    cause: 'The client already has the most requests in flight its route allows (`rateLimits.concurrency`).',
    fix: 'Wait for a running request to finish before sending another, or raise `max` in the route config.',
  },
  VGL_RATE_LIMIT_STORE_UNAVAILABLE: {
    status: 503,
    cause: 'The route limits through Redis with `onStoreFailure: closed` and Redis cannot be reached, so the request was refused.',
    fix: 'Restore Redis (`protection.redis.url`); limiting resumes by itself. Use `onStoreFailure: local` to keep serving with per-instance limits meanwhile.',
  },
  VGL_IP_DENIED: {
    status: 403,
    cause: 'The client address is on a deny list, or not on the allow list, of `protection.ipFilter` or the route’s `ipFilter`.',
    fix: 'Ask the operator to add the address to the allow list; check `gateway.trustedProxies` if the address shown is a proxy’s.',
  },
  VGL_BANNED: {
    status: 403,
    cause: 'The client address or identity is banned (automatically by a `bans.scenarios` rule, or by hand).',
    fix: 'Wait for the ban to expire; operators see it with `vigil bans list` and lift it with `vigil bans remove`.',
  },
  VGL_BAN_ALLOWLISTED: {
    status: 409,
    cause: 'The ban target is on `bans.allowList`, whose addresses are never banned.',
    fix: 'Remove the address from `bans.allowList` first if it really must be banned.',
  },
  VGL_BAN_NOT_FOUND: {
    status: 404,
    cause: 'No active ban has the given target.',
    fix: 'List active bans with `vigil bans list`.',
  },
  VGL_BAN_TARGET_INVALID: {
    status: 400,
    cause: 'A ban target is neither an IP address, a CIDR, nor an identity such as `key:<id>` or a user name.',
    fix: 'Give an address (`203.0.113.7`), a network (`2001:db8::/64`) or an identity (`key:abcdefghijkl`, `alice`).',
  },
  VGL_CORS_DENIED: {
    status: 403,
    cause: "A CORS preflight asked for an origin, method or header the route's `cors` settings do not allow; the upstream was not contacted.",
    fix: 'Add the origin (exact, `https://*.example.com` or an anchored regex), method or header to the route’s `cors` section, or call from an allowed origin.',
  },
  VGL_CSRF_MISSING: {
    status: 403,
    cause: 'A state-changing console request authenticated by the session cookie carried no CSRF token (the `x-csrf-token` header and the `__Host-vigil_csrf` cookie are both required).',
    fix: 'Fetch a token with `GET /api/v1/auth/csrf` (login hands one out too) and send it in `x-csrf-token`; API clients can use a bearer token instead, which needs none.',
  },
  VGL_CSRF_INVALID: {
    status: 403,
    cause: 'The CSRF token was altered, belongs to another session, or the header and cookie differ.',
    fix: 'Fetch a fresh token for the current session with `GET /api/v1/auth/csrf`.',
  },
  VGL_CSRF_EXPIRED: {
    status: 403,
    cause: 'The CSRF token is older than `console.csrf.maxAge` (or dated in the future).',
    fix: 'Fetch a fresh token with `GET /api/v1/auth/csrf` and retry.',
  },
} as const satisfies Record<string, ErrorSpec>;
