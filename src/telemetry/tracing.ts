import type { IncomingMessage } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import type { Context, Span, SpanContext, Tracer } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { settledBy } from '../core/lifecycle.js';
import type { Component } from '../core/lifecycle.js';
import type { VigilConfig } from '../config/schema.js';
import type { Logger } from './logger.js';

export type TracingConfig = VigilConfig['tracing'];

/** W3C Trace Context `traceparent` (version 00), as parsed for the parent of a server span. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const INVALID_TRACE = '0'.repeat(32);
const INVALID_SPAN = '0'.repeat(16);
/** Methods reported as themselves; any other is `_OTHER` (HTTP semantic conventions). */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

export interface TracingOptions {
  readonly config: TracingConfig;
  readonly logger: Logger;
  /** Removes secrets and masks PII in a value that came from a caller (a path, a user agent). */
  readonly scrub: (text: string) => string;
  readonly serviceVersion: string;
}

/** The exporter URL: the configured endpoint, with `/v1/traces` when it has no path. */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return url.href;
}

/**
 * OpenTelemetry tracing for the gateway: one server span per request and one client span per
 * upstream attempt, exported in batches over OTLP/HTTP. Created only when `tracing.enabled`, so a
 * gateway without tracing pays one `undefined` check per request. Stopping it flushes what is
 * still queued (within the shutdown deadline).
 */
export class Tracing implements Component {
  readonly name = 'tracing';
  private readonly provider: TracerProvider;
  readonly tracer: Tracer;
  readonly scrub: (text: string) => string;
  private readonly logger: Logger;
  private readonly sampleRatio: number;

  constructor(options: TracingOptions) {
    const { config, logger } = options;
    this.scrub = options.scrub;
    this.logger = logger;
    this.sampleRatio = config.sampleRatio;
    const exporter = new OTLPTraceExporter({ url: tracesUrl(config.endpoint), headers: { ...config.headers }, timeoutMillis: 10_000 });
    this.provider = new TracerProvider({
      resource: defaultResource().merge(resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': options.serviceVersion })),
      // request() samples before a span exists (parent-based, then the ratio); every span it starts is kept.
      sampler: new AlwaysOnSampler(),
      spanProcessors: [new BatchSpanProcessor({ exporter, maxQueueSize: 4096, maxExportBatchSize: 512, scheduledDelayMillis: 2000 })],
    });
    this.tracer = this.provider.getTracer('vigil-gateway', options.serviceVersion);
    // Export failures reach OpenTelemetry's global error handler; without this they would be silent.
    // The message is the exporter's (status, connection error), never the export headers.
    setGlobalErrorHandler((err) => {
      logger.warn({ code: 'VGL_TRACING_EXPORT_FAILED', error: err instanceof Error ? err.message : String(err) }, 'trace export failed');
    });
  }

  async start(): Promise<void> {}

  /** Ends the provider: queued spans are exported, waiting at most until the deadline; a failure is logged, not thrown. */
  async stop(deadline: number): Promise<void> {
    let failure: string | undefined;
    const flushed = this.provider.shutdown().catch((err: unknown) => {
      failure = err instanceof Error ? err.message : String(err);
    });
    if (!(await settledBy(flushed, deadline))) failure = 'the shutdown deadline passed before the last spans were exported';
    if (failure !== undefined) this.logger.warn({ code: 'VGL_TRACING_EXPORT_FAILED', error: failure }, 'trace export failed');
  }

  /**
   * The server span of one gateway request, a child of the caller's `traceparent` when it sent a
   * valid one; undefined when the request is not sampled. `client.address` is the client behind
   * trusted proxies, `network.peer.address` the direct peer (HTTP semantic conventions). The
   * sampling decision is OpenTelemetry's parent-based one (a caller's sampled flag is followed
   * either way; a new trace is sampled at `sampleRatio`), taken before anything is built, so an
   * unsampled request costs no span, no attributes and no scrubbing; its `traceparent` upstream
   * continues the caller's trace unsampled (trace-context.ts), as with tracing off.
   */
  request(req: IncomingMessage, requestId: string, clientIp: string, peerIp: string, tls: boolean): RequestSpan | undefined {
    const parent = parentSpanContext(req.headers.traceparent);
    if (parent ? (parent.traceFlags & TraceFlags.SAMPLED) === 0 : Math.random() >= this.sampleRatio) return undefined;
    const target = req.url ?? '/';
    const query = target.indexOf('?');
    const method = req.method ?? 'GET';
    const known = KNOWN_METHODS.has(method);
    const host = splitHost(req.headers.host);
    const span = this.tracer.startSpan(
      known ? method : 'HTTP',
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': known ? method : '_OTHER',
          ...(known ? {} : { 'http.request.method_original': method }),
          // The path only, scrubbed: a query string may hold a key, so it is never recorded.
          'url.path': this.scrub(query === -1 ? target : target.slice(0, query)),
          'url.scheme': tls ? 'https' : 'http',
          ...(host ? { 'server.address': host.address, ...(host.port ? { 'server.port': host.port } : {}) } : {}),
          'client.address': clientIp,
          'network.peer.address': peerIp,
          'network.protocol.version': req.httpVersion,
          ...(req.headers['user-agent'] ? { 'user_agent.original': this.scrub(req.headers['user-agent']) } : {}),
          'vigil.request_id': requestId,
        },
      },
      parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
    );
    return new RequestSpan(this, span, known ? method : 'HTTP');
  }
}

/** One gateway request's server span; attempts become its children. */
export class RequestSpan {
  private readonly context: Context;

  constructor(
    private readonly tracing: Tracing,
    readonly span: Span,
    private readonly method: string,
  ) {
    this.context = trace.setSpan(ROOT_CONTEXT, span);
  }

  /** The server span as a `traceparent` (for an upstream reached without an attempt span: an upgrade). */
  get traceparent(): string {
    return formatTraceparent(this.span);
  }

  /** The matched route names the span (`GET chat`) and is recorded as `vigil.route`. */
  route(name: string): void {
    this.span.updateName(`${this.method} ${name}`);
    this.span.setAttribute('vigil.route', name);
  }

  /** A client span for one try against one target; `resendCount` is 0 for the first try. */
  attempt(method: string, origin: string, host: string, path: string, resendCount: number): AttemptSpan {
    const query = path.indexOf('?');
    const server = splitHost(host);
    const known = KNOWN_METHODS.has(method);
    const span = this.tracing.tracer.startSpan(
      known ? method : 'HTTP',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': known ? method : '_OTHER',
          ...(server ? { 'server.address': server.address, 'server.port': server.port ?? (origin.startsWith('https:') ? 443 : 80) } : {}),
          // Without the query string, which may carry a key.
          'url.full': origin + this.tracing.scrub(query === -1 ? path : path.slice(0, query)),
          ...(resendCount > 0 ? { 'http.request.resend_count': resendCount } : {}),
          'vigil.target': origin,
        },
      },
      this.context,
    );
    return new AttemptSpan(span);
  }

  /** Ends the server span with the final status; 5xx and 499 (client gone) are errors, 4xx is the caller's. */
  end(status: number, errorCode: string | null, keyId: string | null): void {
    const { span } = this;
    span.setAttribute('http.response.status_code', status);
    if (keyId) span.setAttribute('vigil.key_id', keyId);
    if (errorCode) span.setAttribute('vigil.error_code', errorCode);
    if (status >= 500 || status === 499) {
      span.setAttribute('error.type', errorCode ?? String(status));
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorCode ?? undefined });
    }
    span.end();
  }
}

/** One upstream attempt's client span and the `traceparent` that names it upstream. */
export class AttemptSpan {
  readonly traceparent: string;

  constructor(private readonly span: Span) {
    this.traceparent = formatTraceparent(span);
  }

  /** Set when the response status already made the attempt an error (its `error.type`). */
  private failedStatus = false;

  response(status: number): void {
    this.span.setAttribute('http.response.status_code', status);
    if (status >= 400) {
      this.failedStatus = true;
      this.span.setAttribute('error.type', String(status));
      this.span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }

  /** Ends the attempt; `error` when it failed (connection, timeout, cut by the gateway). */
  end(error?: { readonly type: string; readonly message: string }): void {
    if (error) {
      // A 503 that is retried ends as "cut for a retry": the status stays the reason.
      if (!this.failedStatus) this.span.setAttribute('error.type', error.type);
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
    this.span.end();
  }
}

function formatTraceparent(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`;
}

/** The caller's span from its `traceparent`, or undefined (a new trace) when it sent none valid. */
function parentSpanContext(header: string | string[] | undefined): SpanContext | undefined {
  const match = typeof header === 'string' ? TRACEPARENT.exec(header) : null;
  if (!match || match[1] === INVALID_TRACE || match[2] === INVALID_SPAN) return undefined;
  return {
    traceId: match[1] as string,
    spanId: match[2] as string,
    traceFlags: Number.parseInt(match[3] as string, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
}

function splitHost(host: string | undefined): { address: string; port: number | undefined } | undefined {
  if (!host) return undefined;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host);
  if (!match) return undefined;
  return { address: (match[1] as string).replace(/^\[|\]$/g, ''), port: match[2] ? Number(match[2]) : undefined };
}
