import type { IncomingHttpHeaders } from 'node:http';
import type { BlockList } from 'node:net';
import type { RouteConfig, VigilConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { cidrList } from '../protection/ip-filter.js';
import type { ClientAddressHeader, PriorForwarding } from './client-address.js';
import { clientAddress, priorForwarding } from './client-address.js';
import type { Stage } from './context.js';
import type { CompiledRoute } from './router.js';
import { Router } from './router.js';
import type { UpstreamMetrics } from './upstream-metrics.js';
import { RouteUpstreams } from './upstream/route-upstreams.js';

/** What a matched request needs: the route, its compiled stages and its upstream side. */
export interface RouteEntry {
  readonly route: CompiledRoute;
  readonly stages: readonly Stage[];
  readonly upstreams: RouteUpstreams;
}

/**
 * The parts of a route's config its connection pools and breakers depend on. Undefined (never
 * reused) with `upstreamTls`: its files may have been replaced on disk, and a reload re-reads them.
 */
function upstreamKey(config: RouteConfig): string | undefined {
  if (config.upstreamTls) return undefined;
  return JSON.stringify([config.upstream, config.upstreams, config.timeouts.connect, config.healthCheck]);
}

/**
 * Everything the gateway derives from `gateway.routes`, `gateway.trustedProxies` and `clientAddressHeader`, compiled once
 * per config load and swapped as a whole on reload. A request keeps the entry it matched, so a
 * reload never changes a request halfway; routes whose upstream settings did not change keep their
 * pools, load and breaker state across the reload.
 */
export class RouteTable {
  private readonly router: Router;
  private readonly entries: Map<string, RouteEntry>;
  private readonly trustedProxies: BlockList | undefined;
  private readonly clientAddressHeader: ClientAddressHeader;
  /** Requests that matched a route of this table and have not finished. */
  private active = 0;
  private idle: (() => void) | undefined;

  constructor(config: VigilConfig, compile: (route: CompiledRoute) => Stage[], metrics: UpstreamMetrics, clock: Clock, previous?: RouteTable) {
    const { gateway } = config;
    this.router = new Router(gateway.routes, gateway.limits.maxBodyBytes, gateway.identityHeaders);
    this.entries = new Map(
      this.router.all.map((route) => {
        const prior = previous?.entries.get(route.name);
        const key = upstreamKey(route.config);
        const reuse = prior !== undefined && key !== undefined && upstreamKey(prior.route.config) === key;
        return [route.name, { route, stages: compile(route), upstreams: reuse ? prior.upstreams : new RouteUpstreams(route.config, metrics, clock) }];
      }),
    );
    this.trustedProxies = cidrList(gateway.trustedProxies);
    this.clientAddressHeader = gateway.clientAddressHeader;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The upstream side of a route by name. */
  upstreamsOf(name: string): RouteUpstreams | undefined {
    return this.entries.get(name)?.upstreams;
  }

  /** `pathname` is the request target before `?`, `host` the Host header. A match must be released when the request ends. */
  match(pathname: string, host: string | undefined, method: string): RouteEntry | undefined {
    const route = this.router.match(pathname, host, method);
    const entry = route ? this.entries.get(route.name) : undefined;
    if (entry) this.active++;
    return entry;
  }

  /** Methods routes serve on this host and path, when none serves the request's method (405). */
  allowedMethods(pathname: string, host: string | undefined): string[] {
    return this.router.allowedMethods(pathname, host);
  }

  release(): void {
    this.active--;
    if (this.active === 0) this.idle?.();
  }

  /** What the trusted proxies said before Vigil, for the forwarding headers sent upstream; undefined when the peer is not one (client-address.ts). */
  priorForwarding(peer: string, headers: IncomingHttpHeaders): PriorForwarding | undefined {
    return priorForwarding(peer, this.trustedProxies, headers, this.clientAddressHeader);
  }

  /** The request's client address behind the trusted proxies (client-address.ts). */
  clientAddress(peer: string, headers: IncomingHttpHeaders): string {
    return clientAddress(peer, this.trustedProxies, headers, this.clientAddressHeader);
  }

  /**
   * Closes the upstream pools `next` no longer uses, once every request that matched this table
   * has finished, so streams that started before the reload finish normally. At shutdown (no
   * `next`) the pools close at once; undici's close still lets running requests end.
   */
  async retire(next: RouteTable | undefined): Promise<void> {
    const kept = new Set(next ? [...next.entries.values()].map((e) => e.upstreams) : []);
    const dropped = [...this.entries.values()].filter((e) => !kept.has(e.upstreams));
    // Health checks of replaced upstreams stop now: the new table has its own for the same targets.
    for (const entry of dropped) entry.upstreams.stopHealthChecks();
    // Requests that matched here may not have reached their pool yet: wait for them first.
    if (next && this.active > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    await Promise.all(dropped.map((e) => e.upstreams.close()));
  }
}
