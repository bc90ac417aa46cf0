import type { OutgoingHttpHeaders } from 'node:http';
import type { VigilConfig } from '../config/schema.js';

export type SecurityHeadersConfig = VigilConfig['console']['securityHeaders'];

/** A route's (or the console's) security headers, computed once per config load. */
export interface CompiledSecurityHeaders {
  /** Sent over plain HTTP. */
  readonly plain: readonly (readonly [string, string])[];
  /** Sent over TLS: `plain` plus Strict-Transport-Security. */
  readonly tls: readonly (readonly [string, string])[];
  /** Headers whose upstream value Vigil replaces: all (`true`), none (`false`) or the named ones. */
  readonly override: boolean | ReadonlySet<string>;
  /** Response headers removed (X-Powered-By, Server). */
  readonly remove: readonly string[];
}

/** The header list for one config; undefined when security headers are turned off. */
export function compileSecurityHeaders(config: SecurityHeadersConfig): CompiledSecurityHeaders | undefined {
  if (!config.enabled) return undefined;
  const plain: [string, string][] = [];
  const add = (name: string, value: string | false): void => {
    if (value !== false) plain.push([name, value]);
  };
  add('content-security-policy', config.contentSecurityPolicy);
  add('cross-origin-opener-policy', config.crossOriginOpenerPolicy);
  add('cross-origin-resource-policy', config.crossOriginResourcePolicy);
  add('cross-origin-embedder-policy', config.crossOriginEmbedderPolicy);
  add('origin-agent-cluster', config.originAgentCluster && '?1');
  add('referrer-policy', config.referrerPolicy && config.referrerPolicy.join(','));
  add('x-content-type-options', config.xContentTypeOptions && 'nosniff');
  add('x-dns-prefetch-control', config.xDnsPrefetchControl);
  add('x-download-options', config.xDownloadOptions && 'noopen');
  add('x-frame-options', config.xFrameOptions);
  add('x-permitted-cross-domain-policies', config.xPermittedCrossDomainPolicies);
  add('x-xss-protection', config.xXssProtection && '0');
  add('permissions-policy', config.permissionsPolicy);
  const hsts = config.strictTransportSecurity;
  const tls = [...plain];
  if (hsts.enabled) {
    let value = `max-age=${Math.floor(hsts.maxAge / 1000)}`;
    if (hsts.includeSubDomains) value += '; includeSubDomains';
    if (hsts.preload) value += '; preload';
    tls.push(['strict-transport-security', value]);
  }
  const override = typeof config.override === 'boolean' ? config.override : new Set(config.override);
  return { plain, tls, override, remove: config.hidePoweredBy ? ['x-powered-by', 'server'] : [] };
}

/**
 * Adds the security headers to a response header object that may already hold the upstream's own
 * headers: an upstream value is kept unless the config overrides that header. HSTS only over TLS.
 */
export function applySecurityHeaders(out: OutgoingHttpHeaders, headers: CompiledSecurityHeaders, tls: boolean): void {
  const { override } = headers;
  for (const [name, value] of tls ? headers.tls : headers.plain) {
    if (out[name] === undefined || override === true || (override !== false && override.has(name))) out[name] = value;
  }
  for (const name of headers.remove) delete out[name];
}

/** The same for a response Vigil writes itself (a rejection, a preflight): every header, nothing to keep. */
export function securityHeaderList(headers: CompiledSecurityHeaders | undefined, tls: boolean): readonly (readonly [string, string])[] {
  if (!headers) return [];
  return tls ? headers.tls : headers.plain;
}
