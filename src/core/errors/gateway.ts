import type { ErrorSpec } from '../errors.js';

/** The gateway: route authentication, routing, request hygiene, upstreams, PII policy. */
export const GATEWAY_ERRORS = {
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
} as const satisfies Record<string, ErrorSpec>;
