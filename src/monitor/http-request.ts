/**
 * Helpers shared by everything that makes outbound HTTP requests to operator-configured URLs
 * (the HTTP check, the webhook notifier): readable failure text and credential-free targets.
 */

/** Readable names for the failure codes an outbound request commonly ends with. */
const FAILURES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed while sending',
  UND_ERR_SOCKET: 'connection closed by server',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
  UND_ERR_HEADERS_OVERFLOW: 'response headers too large',
  UND_ERR_INVALID_ARG: 'invalid request',
  HPE_INVALID_CONSTANT: 'invalid HTTP response',
  CERT_HAS_EXPIRED: 'TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate chain is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate cannot be verified',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host name',
};

/**
 * `connection refused (ECONNREFUSED)`. Only the code is trusted: error messages can quote the URL
 * (and so its query secrets), so they never reach the text.
 */
export function describeRequestFailure(err: unknown): string {
  const code = errorCode(err);
  if (code === undefined) return `request failed (${err instanceof Error ? err.name : 'unknown error'})`;
  return `${FAILURES[code] ?? 'request failed'} (${code})`;
}

function errorCode(err: unknown): string | undefined {
  // undici wraps socket errors; the operating system's code is usually on the cause.
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,64}$/.test(code) && code !== 'UND_ERR') return code;
  }
  return undefined;
}

/** `Authorization: Basic …` for `https://user:pass@host/`, with the userinfo removed from the URL. */
export function splitUrlCredentials(raw: string): { url: string; authorization: string | undefined } {
  const url = new URL(raw);
  if (url.username === '' && url.password === '') return { url: url.toString(), authorization: undefined };
  const userinfo = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = '';
  url.password = '';
  return { url: url.toString(), authorization: `Basic ${Buffer.from(userinfo).toString('base64')}` };
}

/** The URL as safe to log: origin and path, no userinfo, no query, no fragment. */
export function loggableUrl(raw: string): string {
  const url = new URL(raw);
  return `${url.protocol}//${url.host}${url.pathname}`;
}
