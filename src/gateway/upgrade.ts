import type { Duplex } from 'node:stream';
import { VigilError } from '../core/errors.js';
import type { PriorForwarding } from './client-address.js';
import type { GatewayContext } from './context.js';
import { requestHeaders, responseHeaders } from './headers.js';
import { upstreamError } from './upstream-errors.js';
import type { RouteUpstreams } from './upstream/route-upstreams.js';
import { upstreamPath } from './router.js';

/** Response headers undici hands back that the 101 to the client sets itself. */
const SET_BY_TUNNEL = new Set(['connection', 'upgrade']);

/**
 * Proxies an HTTP Upgrade (WebSocket): asks the upstream for the same upgrade, answers the client's
 * 101 with the upstream's headers, then splices the two sockets until either side closes. The
 * route's stages (authentication included) have already run. Resolves when the tunnel is open;
 * rejects with a coded error (answered as JSON) when the upstream refuses or cannot be reached.
 */
export async function tunnel(ctx: GatewayContext, upstreams: RouteUpstreams, prior: PriorForwarding | undefined, client: Duplex, head: Buffer): Promise<void> {
  const { req, route } = ctx;
  const protocol = req.headers.upgrade ?? 'websocket';
  const target = upstreams.pick(undefined);
  if (!target) throw new VigilError('VGL_GATEWAY_NO_HEALTHY_TARGET', 'no healthy upstream target: every target is ejected (circuit open) or failing its health check');
  let upstream: { headers: Record<string, string | string[] | undefined>; socket: Duplex };
  const abort = new AbortController();
  const onClientGone = (): void => abort.abort();
  client.once('close', onClientGone);
  try {
    upstream = await target.pool.upgrade({
      path: upstreamPath(route, target.basePath, ctx.target),
      method: req.method ?? 'GET',
      headers: requestHeaders(ctx, prior, target.host),
      protocol,
      signal: abort.signal,
    });
    target.breaker.success();
  } catch (err) {
    if (abort.signal.aborted) return;
    target.breaker.failure();
    throw upstreamError(err);
  } finally {
    client.removeListener('close', onClientGone);
  }
  if (client.destroyed) {
    upstream.socket.destroy();
    return;
  }
  const headers = responseHeaders(ctx, upstream.headers);
  let answer = `HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: ${protocol}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (SET_BY_TUNNEL.has(name) || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [String(value)]) answer += `${name}: ${one}\r\n`;
  }
  client.write(`${answer}\r\n`);
  if (head.length > 0) upstream.socket.write(head);
  // Either side closing (or failing) closes the other, so neither socket outlives the tunnel.
  const close = (): void => {
    client.destroy();
    upstream.socket.destroy();
  };
  client.on('error', close).on('close', close);
  upstream.socket.on('error', close).on('close', close);
  upstream.socket.pipe(client);
  client.pipe(upstream.socket);
}
