/**
 * The one error catalogue. Every error Vigil raises on purpose has a stable code here; codes are
 * never reused or renamed. docs/errors.md is generated from this table (`npm run docs`) and a test
 * fails when the two drift apart.
 */
export interface ErrorSpec {
  /** HTTP status when the error reaches an HTTP client. */
  readonly status: number;
  /** What went wrong, one sentence, for the error-code list. */
  readonly cause: string;
  /** What the operator or caller should do about it. */
  readonly fix: string;
}

export const ERROR_CATALOGUE = {
  VGL_CONFIG_INVALID: {
    status: 500,
    cause: 'The configuration file failed validation (wrong type, unknown key, impossible value).',
    fix: 'Run `vigil config check --config FILE`; every problem is listed with its YAML path and line.',
  },
  VGL_CONFIG_PARSE: {
    status: 500,
    cause: 'The configuration file is not well-formed YAML.',
    fix: 'Fix the YAML syntax at the reported line and column.',
  },
  VGL_CONFIG_ENV_UNSET: {
    status: 500,
    cause: 'The configuration refers to an environment variable with `${NAME}` that is not set.',
    fix: 'Set the variable, give a default with `${NAME:-default}`, or write `$${` for a literal `${`.',
  },
  VGL_CONFIG_NOT_FOUND: {
    status: 500,
    cause: 'The configuration file named on the command line cannot be read.',
    fix: 'Check the path and its permissions.',
  },
  VGL_STORE_DATA_DIR: {
    status: 500,
    cause: 'The data directory cannot be created or written, or its permissions are looser than 0700.',
    fix: 'Point `store.dataDir` (or VIGIL_DATA_DIR) at a directory Vigil owns and `chmod 700` it.',
  },
  VGL_STORE_FILE_PERMISSIONS: {
    status: 500,
    cause: 'A file holding Vigil data or keys is readable by group or others.',
    fix: 'Run `chmod 600` on the named file; Vigil refuses to use it until then.',
  },
  VGL_STORE_FAILED: {
    status: 500,
    cause: 'A read or write to the store failed.',
    fix: 'Check disk space and the store logs; the failed operation was not applied.',
  },
  VGL_STORE_MIGRATION: {
    status: 500,
    cause: 'The database schema is newer than this Vigil version, or a migration failed.',
    fix: 'Run the Vigil version that wrote the database, or restore a backup.',
  },
  VGL_LISTEN_FAILED: {
    status: 500,
    cause: 'A listener could not bind its address (port in use, or not permitted).',
    fix: 'Free the port or change `listen` in the configuration.',
  },
  VGL_AUTH_MISSING: {
    status: 401,
    cause: 'The route requires an API key or a JWT (its `auth`) and the request carried none.',
    fix: 'Send `Authorization: Bearer <key or JWT>`, or `x-api-key: <key>` on `apiKey` and `either` routes.',
  },
  VGL_AUTH_INVALID: {
    status: 401,
    cause: "The API key is malformed, unknown, revoked or expired; or the JWT is malformed, wrongly signed, expired, not yet valid, from an issuer the route does not trust, for another audience, signed with an algorithm not allowed, or a refresh token.",
    fix: 'Use a current key (`vigil keys list`) or a fresh access token from a trusted issuer; the message says which check failed.',
  },
  VGL_AUTH_FORBIDDEN: {
    status: 403,
    cause: 'The caller is authenticated but lacks a scope, role or claim value the route requires (`scopes`, `roles`, `claims`).',
    fix: 'Use a key with the required scopes (`vigil keys create --scopes`), or a token whose roles/claims match; the message names what is missing.',
  },
  VGL_AUTH_ISSUER_UNAVAILABLE: {
    status: 503,
    cause: "The JWT names an external issuer whose key set has never been fetched successfully (the JWKS URL is down, slow or invalid); Vigil retries at most once per the issuer's `cooldown`.",
    fix: 'Check `gateway.jwt.issuers[].jwksUrl` and that the issuer is reachable from Vigil; the log has the fetch error.',
  },
  VGL_GATEWAY_NO_ROUTE: {
    status: 404,
    cause: 'No gateway route matches the request host and path.',
    fix: 'Check the request path and Host header against `gateway.routes[]` (`hosts`, `prefix`, `path`, `pattern`; precedence in docs/gateway.md).',
  },
  VGL_GATEWAY_METHOD_NOT_ALLOWED: {
    status: 405,
    cause: 'Routes match the request host and path, but none serves its method (`gateway.routes[].methods`).',
    fix: 'Use a method listed in the `Allow` response header, or add the method to a route.',
  },
  VGL_GATEWAY_BAD_REQUEST: {
    status: 400,
    cause: 'The request is malformed HTTP (bad framing, oversized headers, invalid characters).',
    fix: 'Send a well-formed HTTP/1.1 request within the configured limits.',
  },
  VGL_GATEWAY_HEADERS_TOO_LARGE: {
    status: 431,
    cause: 'The request headers exceed `gateway.maxHeaderBytes`.',
    fix: 'Send smaller headers or raise the limit.',
  },
  VGL_GATEWAY_UPSTREAM_UNREACHABLE: {
    status: 502,
    cause: 'The upstream refused or dropped the connection, or answered with invalid HTTP.',
    fix: 'Check that the upstream is running; the gateway itself is healthy.',
  },
  VGL_GATEWAY_UPSTREAM_TIMEOUT: {
    status: 504,
    cause: 'The upstream did not answer within the route timeout.',
    fix: 'Check the upstream, or raise `timeouts` on the route.',
  },
  VGL_GATEWAY_BODY_TOO_LARGE: {
    status: 413,
    cause: 'The request body is larger than the route allows (`maxBodyBytes` on the route, else `gateway.limits.maxBodyBytes`); chunked bodies are counted as they stream.',
    fix: 'Send a smaller body, or raise the limit for that route.',
  },
  VGL_GATEWAY_URI_TOO_LONG: {
    status: 414,
    cause: 'The request target (path and query) is longer than `gateway.limits.maxUrlLength`.',
    fix: 'Move large parameters into the request body, or raise the limit.',
  },
  VGL_GATEWAY_REQUEST_TIMEOUT: {
    status: 408,
    cause: 'The client did not send its complete request headers within `gateway.limits.headersTimeout`, or its whole request within `gateway.limits.requestTimeout`.',
    fix: 'Send the request promptly; raise the limits for slow uploads. Repeated slow clients are a slowloris attack.',
  },
  VGL_GATEWAY_MAX_CONNECTIONS: {
    status: 503,
    cause: 'A client connection was closed at accept because `gateway.limits.maxConnections` were already open (logged, not sent: the connection is dropped).',
    fix: 'Raise the limit if the load is legitimate, or find the client holding connections open.',
  },
  VGL_GATEWAY_NO_HEALTHY_TARGET: {
    status: 503,
    cause: "Every upstream target of the route is out of balancing: its circuit breaker opened after consecutive failures, or its active health check (`healthCheck`) failed, and no fallback target is available.",
    fix: 'Check the upstream targets (the `vigil_gateway_breaker_state` and `vigil_gateway_upstream_healthy` metrics name them); a target is probed again after `upstreams.breaker.openFor`, and put back after `healthCheck.healthyThreshold` passing probes.',
  },
  VGL_GATEWAY_TARGET_UNHEALTHY: {
    status: 503,
    cause: "An upstream target failed `healthCheck.unhealthyThreshold` active health probes in a row (logged with the probe's outcome); it gets no requests until it passes `healthyThreshold` in a row.",
    fix: 'Check the target at the logged address and its health endpoint (`healthCheck.path`, `expectStatus`, `conditions`).',
  },
  VGL_GATEWAY_TLS_FILE: {
    status: 500,
    cause: 'A TLS file of the gateway (a route\'s `upstreamTls` CA, certificate or key, or the listener\'s `gateway.tls`) cannot be read, is not PEM (or the listener pair does not match), or is a private key readable by group or others.',
    fix: 'Check the path and the file; `chmod 600` the private key.',
  },
  VGL_RELOAD_NOT_RUNNING: {
    status: 500,
    cause: '`vigil reload` found no running Vigil for this data directory (no `vigil.pid`, or it names a process that is not Vigil).',
    fix: 'Start Vigil with `vigil start`, or pass the same `--config` the running instance uses; or send SIGHUP to its pid yourself.',
  },
  VGL_GATEWAY_SHUTTING_DOWN: {
    status: 503,
    cause: 'The gateway is draining for shutdown and takes no new requests.',
    fix: 'Retry against another instance or after the restart.',
  },
  VGL_GATEWAY_PII_BLOCKED: {
    status: 422,
    cause: 'The request body holds PII of a kind the route blocks (`pii.request.action: block`); the message names the kinds found, never the values. Nothing after the value reached the upstream, and that request was aborted.',
    fix: 'Remove the personal data or credentials from the request, or mask or tokenize them instead (`pii.request.action`).',
  },
  VGL_GATEWAY_PII_UNINSPECTABLE: {
    status: 415,
    cause: 'The route inspects bodies for PII and the request cannot be inspected: its body is compressed (`Content-Encoding` other than identity), or it asks for a WebSocket upgrade.',
    fix: 'Send the body uncompressed on this route; serve WebSockets on a route without a `pii` policy.',
  },
  VGL_GATEWAY_PII_RESPONSE_BLOCKED: {
    status: 502,
    cause: 'The upstream response holds PII of a kind the route blocks (`pii.response.action: block`), or is compressed although the gateway asked for it uncompressed. Only sent while no response byte reached the client; later, the connection is cut instead.',
    fix: 'Find the value in the upstream (the security event names the route and kinds), or mask or tokenize instead of blocking.',
  },
  VGL_GATEWAY_INTERNAL: {
    status: 500,
    cause: 'An unexpected error inside the gateway; details are in the log under the request ID.',
    fix: 'Report it with the request ID; the gateway keeps serving.',
  },
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
  VGL_KEY_NOT_FOUND: {
    status: 404,
    cause: 'No API key has the given ID.',
    fix: 'List keys with `vigil keys list`.',
  },
  VGL_CONSOLE_UNAUTHENTICATED: {
    status: 401,
    cause: 'An admin API request carried no valid console session (or it expired, was revoked, or belongs to a disabled user).',
    fix: 'Log in with `POST /api/v1/auth/login` and send the session cookie it sets.',
  },
  VGL_CONSOLE_FORBIDDEN: {
    status: 403,
    cause: "The signed-in user's role lacks the permission the admin route requires (or the route declares none).",
    fix: 'Ask an owner or admin for a role that holds the permission (`vigil users set-role`); docs/identity.md lists them.',
  },
  VGL_CONSOLE_BAD_REQUEST: {
    status: 400,
    cause: 'An admin API request body or parameter is missing, malformed or too large.',
    fix: 'Send JSON matching the route; the message names the field that was wrong.',
  },
  VGL_LOGIN_FAILED: {
    status: 401,
    cause: 'The username or password is wrong, or the account is disabled (one answer for all, so accounts cannot be probed).',
    fix: 'Check the credentials; an administrator can reset the password with `vigil users reset-password`.',
  },
  VGL_LOGIN_LOCKED: {
    status: 429,
    cause: 'Too many failed logins for this account or from this address; logins are refused until the lock ends.',
    fix: 'Wait for the time in `Retry-After`; a locked owner can run `vigil users unlock NAME` on the Vigil host.',
  },
  VGL_PASSWORD_WEAK: {
    status: 400,
    cause: 'The new password is too short, too long (over 128 characters), or common or guessable.',
    fix: 'Choose a longer passphrase of unrelated words; the message says which rule failed.',
  },
  VGL_PASSWORD_CHANGE_REQUIRED: {
    status: 403,
    cause: 'The account still has its one-time password; nothing else is allowed until it is changed.',
    fix: 'Set a new password with `POST /api/v1/auth/password`.',
  },
  VGL_USER_NOT_FOUND: {
    status: 404,
    cause: 'No user has the given name.',
    fix: 'List users with `vigil users list`.',
  },
  VGL_USER_EXISTS: {
    status: 409,
    cause: 'A user with that name already exists.',
    fix: 'Choose another name, or change the existing user.',
  },
  VGL_TOKEN_INVALID: {
    status: 401,
    cause: 'A JWT or refresh token is malformed, wrongly signed, expired, not yet valid, for another issuer or audience, of the wrong type, revoked or replayed.',
    fix: 'Log in again for a new token pair; a replayed refresh token has revoked its whole family.',
  },
  VGL_MFA_REQUIRED: {
    status: 401,
    cause: 'The password was right, but the account uses TOTP and no valid second factor was given yet.',
    fix: 'Send the 6-digit code from the authenticator (or a recovery code) to `POST /api/v1/auth/mfa/verify`, or as `code` to `/api/v1/auth/token`.',
  },
  VGL_MFA_INVALID: {
    status: 401,
    cause: 'The TOTP code is wrong, outside the ±30 s window, already used, or the recovery code is unknown or spent.',
    fix: 'Wait for the next code and try again; failures count toward the account lockout.',
  },
  VGL_MFA_ENROLMENT_REQUIRED: {
    status: 403,
    cause: "The user's role requires TOTP (`identity.mfa.requiredRoles`) and the user has not enrolled.",
    fix: 'Enrol with `POST /api/v1/auth/mfa/enrol`, then confirm a code with `POST /api/v1/auth/mfa/confirm`.',
  },
  VGL_SESSION_NOT_FOUND: {
    status: 404,
    cause: 'The user has no live console session with the given ID (it ended, expired, or never existed).',
    fix: 'List the live sessions with `GET /api/v1/users/:username/sessions`.',
  },
  VGL_ROLE_UNKNOWN: {
    status: 400,
    cause: 'The role is neither built in nor defined under `identity.roles`.',
    fix: 'Use one of the roles listed in docs/identity.md or define it in the configuration.',
  },
  VGL_CLI_USAGE: {
    status: 400,
    cause: 'A command-line argument is missing or malformed.',
    fix: 'See `vigil --help` or `vigil <command> --help`.',
  },
  VGL_MONITOR_CHECK_SETUP: {
    status: 500,
    cause: 'A configured check could not be set up at start (for example its `caFile` cannot be read).',
    fix: 'Fix the file or setting named in the message; the check index and name are given.',
  },
  VGL_MONITOR_HEARTBEAT_UNAUTHORIZED: {
    status: 401,
    cause: 'A heartbeat ping named an unknown check or carried a missing or wrong token.',
    fix: 'Send `Authorization: Bearer <token>` with the `token` configured for that heartbeat check.',
  },
  VGL_MONITOR_BAD_QUERY: {
    status: 400,
    cause: 'A monitor history query has a malformed or impossible parameter (time, range, resolution or limit).',
    fix: 'Use ISO 8601 or epoch-millisecond times with from < to, resolution raw or hour, limit 1-5000.',
  },
  VGL_MONITOR_CHECK_NOT_FOUND: {
    status: 404,
    cause: 'No configured check has the given name.',
    fix: 'List checks with `GET /api/v1/monitors`.',
  },
  VGL_ALERT_ACTION_FAILED: {
    status: 500,
    cause: 'A rule action (command, webhook or route fallback) failed, timed out, or was refused by the audit log.',
    fix: 'Look at the run in `alert_action_runs` (outcome and detail) and the log line; fix the command, URL or route.',
  },
  VGL_ALERT_ROUTE_FALLBACK: {
    status: 409,
    cause: 'A routeFallback action names a route that the running gateway does not have, or that has no fallback targets.',
    fix: 'Give the route targets with `fallback: true`, or point the action at a route that has them.',
  },
  VGL_ALERT_EXPORT_UNSUPPORTED: {
    status: 400,
    cause: '`vigil alerts export` was asked for a format it does not write.',
    fix: 'Use `--format prometheus`.',
  },
  VGL_NOTIFY_FAILED: {
    status: 502,
    cause: 'A notification could not be delivered; it stays in the outbox and is retried.',
    fix: 'Check the receiver; delivery resumes with backoff until `maxAge`.',
  },
  VGL_ALERT_MATCHER: {
    status: 400,
    cause: 'A label matcher (route, inhibit rule, maintenance window or silence) does not parse, or its regex could backtrack without bound.',
    fix: 'Write `name="value"`, `name!="value"`, `name=~"regex"` or `name!~"regex"`; avoid nested quantifiers like `(a+)+`, back-references and look-arounds.',
  },
  VGL_ALERT_NOT_FOUND: {
    status: 404,
    cause: 'No alert or silence has that ID.',
    fix: 'List alerts with `vigil alerts history` or `GET /api/v1/alerts`, silences with `vigil alerts silence list`.',
  },
  VGL_ALERT_NOT_FIRING: {
    status: 409,
    cause: 'Only a firing alert can be acknowledged; this one is pending or resolved, or it fired again since the link was made.',
    fix: 'Nothing to do for a resolved alert; for a new outage use the link in the newest notification.',
  },
  VGL_ACK_LINK_INVALID: {
    status: 403,
    cause: 'An acknowledge link is malformed, its signature does not verify, or it has expired.',
    fix: 'Use the link from the newest notification, or acknowledge with `vigil alerts ack <id>`; links last `alerting.ackLinkTtl`.',
  },
  VGL_SILENCE_INVALID: {
    status: 400,
    cause: 'A silence needs at least one matcher, an end after its start, an author and a comment.',
    fix: 'For example: `vigil alerts silence add --matcher \'check="db"\' --duration 2h --author alice --comment "db migration"`.',
  },
  VGL_VAULT_MASTER_KEY_INVALID: {
    status: 500,
    cause: 'The master key in VIGIL_MASTER_KEY (or VIGIL_MASTER_KEY_NEXT) or in the key file is not 32 bytes as 64 hex or 44 base64 characters.',
    fix: 'Generate one with `openssl rand -base64 32`, or remove it and let Vigil generate the key file on first start.',
  },
  VGL_VAULT_MASTER_KEY_WRONG: {
    status: 500,
    cause: 'The stored secrets are wrapped by a master key other than the one given; nothing was read or changed.',
    fix: 'Start with the master key this data directory was created with (the error names the key IDs expected and given).',
  },
  VGL_VAULT_MASTER_KEY_MISSING: {
    status: 500,
    cause: 'The data directory holds encrypted secrets but no master key was found (no VIGIL_MASTER_KEY, no key file).',
    fix: 'Restore the master key file from backup or set VIGIL_MASTER_KEY; Vigil never generates a new key over existing secrets.',
  },
  VGL_VAULT_DECRYPT_FAILED: {
    status: 500,
    cause: 'A stored ciphertext did not authenticate: it was modified, or moved to another secret name or version.',
    fix: 'Restore the secret from backup or set it again; the failure is logged without the value.',
  },
  VGL_SECRET_NOT_FOUND: {
    status: 404,
    cause: 'No secret (or no such version of it) has the given name.',
    fix: 'List secrets with `vigil secrets list` and versions with `vigil secrets versions NAME`.',
  },
  VGL_SECRET_INVALID: {
    status: 400,
    cause: 'A secret name or value is malformed: bad characters, empty, too large, or a reserved `vigil.` name.',
    fix: 'Names are 1-128 characters of A-Z a-z 0-9 _ . - starting with a letter or digit; values 1 byte to 64 KiB.',
  },
  VGL_CONFIG_ENV_PLACEHOLDER: {
    status: 500,
    cause: 'An environment variable the configuration uses holds a placeholder (`changeme`, `YOUR_..._HERE`, `<...>`, `xxxx`), not a real value.',
    fix: 'Set the variable to the real value; `vigil env check --template .env.example` checks them all.',
  },
  VGL_CONFIG_SECRET_UNSET: {
    status: 500,
    cause: 'The configuration refers to a vault secret with `${secret:NAME}` that does not exist.',
    fix: 'Create it with `vigil secrets set NAME` (value on stdin), or correct the name.',
  },
  VGL_AUDIT_WRITE_FAILED: {
    status: 503,
    cause: 'The audit log could not be written, and `audit.failClosed` is on, so the action was refused.',
    fix: 'Check the store (disk space, permissions); the action can be retried once the audit log is writable.',
  },
  VGL_AUDIT_TAMPERED: {
    status: 500,
    cause: '`vigil audit verify` found a modified, deleted, inserted or reordered audit entry, or a bad checkpoint signature.',
    fix: 'Investigate from the first entry reported; restore the audit log from backup and keep the tampered copy as evidence.',
  },
  VGL_FILE_INVALID: {
    status: 400,
    cause: 'A file given on the command line cannot be read, or is not in the expected format.',
    fix: 'Check the path, its permissions and its format (the message names the line).',
  },
  VGL_TRACING_EXPORT_FAILED: {
    status: 502,
    cause: 'A batch of spans could not be sent to `tracing.endpoint` (unreachable, refused, or answered with an error); logged, requests are not affected, the batch is dropped.',
    fix: 'Check that the OTLP/HTTP receiver listens at `tracing.endpoint` (JSON encoding) and that `tracing.headers` carries the credentials it expects.',
  },
  VGL_SHUTDOWN_TIMEOUT: {
    status: 500,
    cause: 'Graceful shutdown did not finish within `shutdown.timeout`; remaining connections were closed.',
    fix: 'Raise `shutdown.timeout` if long streams must be allowed to finish.',
  },
  VGL_GATEWAY_PATH_REJECTED: {
    status: 400,
    cause: 'The request path holds an encoded traversal (`%2e%2e%2f`, `..%2f`), an overlong or invalid UTF-8 sequence, a backslash (raw or `%5c`), a null byte (`%00`) or a malformed percent escape.',
    fix: 'Send a normalised path: plain segments, valid UTF-8 percent-encoding, no dot segments or backslashes.',
  },
  VGL_GATEWAY_INVALID_ENCODING: {
    status: 400,
    cause: 'A request header or the query string holds invalid UTF-8, a null byte or a malformed percent escape.',
    fix: 'Percent-encode query values as UTF-8 and send header values as valid UTF-8 (ASCII preferred).',
  },
  VGL_GATEWAY_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    cause: "The request body's Content-Type is missing or not in the route's `hygiene.contentTypes` allow list.",
    fix: 'Send a body with one of the allowed media types (e.g. `application/json`).',
  },
  VGL_GATEWAY_JSON_TOO_COMPLEX: {
    status: 413,
    cause: "The JSON request body exceeds the route's `hygiene.json` limits (nesting depth, member count or string length); it was cut before the upstream received all of it.",
    fix: 'Send a flatter or smaller document, or raise `hygiene.json.maxDepth`, `maxKeys` or `maxStringLength` for the route.',
  },
  VGL_GATEWAY_JSON_MALFORMED: {
    status: 400,
    cause: 'The JSON request body is structurally broken (unbalanced brackets, a value after the end, an unterminated string or escape).',
    fix: 'Send well-formed JSON (RFC 8259).',
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

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** An error with a stable code from the catalogue. `message` never contains secret values. */
export class VigilError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VigilError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
  }
}

export function isVigilError(err: unknown): err is VigilError {
  return err instanceof VigilError;
}

/** The JSON body every HTTP rejection carries. */
export function errorBody(code: ErrorCode, message: string, requestId: string): string {
  return JSON.stringify({ error: { code, message, requestId } });
}
