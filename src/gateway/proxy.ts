import type { OutgoingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Pool, errors as undiciErrors } from 'undici';
import { VigilError } from '../core/errors.js';
import type { GatewayContext } from './context.js';
import type { CompiledRoute } from './router.js';
import { upstreamPath } from './router.js';

/**
 * Request headers never forwarded: hop-by-hop headers (RFC 9110 §7.6.1), the Host (set to the
 * upstream's), and Vigil's own credentials, which belong to the gateway and not to the upstream.
 */
const DROP_REQUEST = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authorization', 'expect', 'host', 'x-request-id', 'x-correlation-id', 'x-forwarded-for',
  'x-forwarded-host', 'x-forwarded-proto',
]);
const CREDENTIAL_HEADERS = new Set(['authorization', 'x-api-key']);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** One keep-alive connection pool per route, created lazily and closed on shutdown. */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  get(route: CompiledRoute): Pool {
    let pool = this.pools.get(route.name);
    if (!pool) {
      pool = new Pool(route.origin, {
        connections: 256,
        pipelining: 1,
        keepAliveTimeout: 4000,
        connect: { timeout: route.config.timeouts.connect },
      });
      this.pools.set(route.name, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
  }
}

function requestHeaders(ctx: GatewayContext): string[] {
  const raw = ctx.req.rawHeaders;
  const dropCredentials = ctx.route.config.auth === 'apiKey';
  const connectionTokens = ctx.req.headers.connection?.toLowerCase().split(',').map((t) => t.trim()) ?? [];
  const out: string[] = [];
  let forwardedFor: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (lower === 'x-forwarded-for') forwardedFor = forwardedFor ? `${forwardedFor}, ${raw[i + 1]}` : raw[i + 1];
    if (DROP_REQUEST.has(lower) || (dropCredentials && CREDENTIAL_HEADERS.has(lower)) || connectionTokens.includes(lower)) continue;
    out.push(name, raw[i + 1] as string);
  }
  out.push(
    'host', ctx.route.upstreamHost,
    'x-request-id', ctx.requestId,
    'x-forwarded-for', forwardedFor ? `${forwardedFor}, ${ctx.clientIp}` : ctx.clientIp,
    'x-forwarded-proto', 'http',
  );
  const host = ctx.req.headers.host;
  if (host !== undefined) out.push('x-forwarded-host', host);
  return out;
}

function responseHeaders(headers: Record<string, string | string[] | undefined>, requestId: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const connectionTokens = typeof headers.connection === 'string' ? headers.connection.toLowerCase().split(',').map((t) => t.trim()) : [];
  for (const name in headers) {
    if (DROP_RESPONSE.has(name) || connectionTokens.includes(name)) continue;
    out[name] = headers[name];
  }
  out['x-request-id'] = requestId;
  return out;
}

/** Maps an undici failure to the coded error the client receives. */
export function upstreamError(err: unknown): VigilError {
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
    return new VigilError('VGL_GATEWAY_UPSTREAM_TIMEOUT', 'the upstream did not answer in time', { cause: err });
  }
  return new VigilError('VGL_GATEWAY_UPSTREAM_UNREACHABLE', 'the upstream could not be reached', { cause: err });
}

/**
 * Forwards the request and streams the response back without buffering either body. A client that
 * goes away aborts the upstream request at once, so an abandoned LLM call stops costing money.
 */
export async function forward(ctx: GatewayContext, pool: Pool): Promise<void> {
  const { req, res, route } = ctx;
  const abort = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) abort.abort();
  };
  res.once('close', onClose);
  const length = req.headers['content-length'];
  const hasBody = length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
  let upstream;
  try {
    upstream = await pool.request({
      path: upstreamPath(route, ctx.target),
      method: req.method as string,
      headers: requestHeaders(ctx),
      body: hasBody ? req : null,
      signal: abort.signal,
      headersTimeout: route.config.timeouts.response,
      bodyTimeout: route.config.timeouts.idle,
    });
  } catch (err) {
    if (abort.signal.aborted) return;
    throw upstreamError(err);
  }
  res.writeHead(upstream.statusCode, responseHeaders(upstream.headers, ctx.requestId));
  try {
    await pipeline(upstream.body, res);
  } catch {
    // The client left or the upstream broke mid-body: the status is already sent, so the only
    // honest signal left is to cut the connection; the access record notes the abort.
    res.destroy();
  }
}
