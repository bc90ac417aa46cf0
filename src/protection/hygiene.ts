import { isUtf8 } from 'node:buffer';
import type { RouteConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { VigilError } from '../core/errors.js';
import type { SecurityEventRecorder } from '../identity/security-events.js';
import type { SecuritySeverity } from '../store/records.js';
import { addBodyTransform } from '../gateway/body-transform.js';
import type { BodyTransform } from '../gateway/body-transform.js';
import type { GatewayContext, Stage } from '../gateway/context.js';

/** What the protection stages need from the gateway: where events go and what time it is. */
export interface ProtectionDeps {
  readonly securityEvents: SecurityEventRecorder;
  readonly clock: Clock;
}

type HygieneConfig = RouteConfig['hygiene'];
export type JsonLimits = HygieneConfig['json'];

/**
 * Records the security event for a request a protection stage refuses: one typed record with the
 * route, the client, the key if known, the request ID and the stage's facts. A flood of one type
 * from one address on one route is coalesced by the recorder (about one stored event a second).
 */
export function recordRejection(deps: ProtectionDeps, ctx: GatewayContext, error: VigilError, type: string, severity: SecuritySeverity, details: Record<string, unknown>): void {
  const { caller } = ctx;
  deps.securityEvents.reject(`${type}|${ctx.clientIp}|${ctx.route.name}|${error.code}`, {
    at: deps.clock.now(),
    type,
    severity,
    sourceIp: ctx.clientIp,
    identity: caller ? (caller.keyId !== null ? `key:${caller.keyId}` : `${caller.issuer ?? 'jwt'}:${caller.subject}`) : null,
    correlationId: ctx.requestId,
    route: ctx.route.name,
    details: { code: error.code, method: ctx.req.method ?? '', ...details },
  });
}

/**
 * Refuses a request target that is not an absolute path (`*`, `http://host/…`) or holds a dot
 * segment, as dispatch finds it before routing: no route yet, but the same `hygiene.path_rejected`
 * event as the hygiene stage's path refusals (coalesced), so a scanner's path probing shows and can
 * feed a ban. Routing's own 404 and 405 are ordinary traffic and record nothing.
 */
export function rejectTarget(deps: ProtectionDeps, method: string, target: string, clientIp: string, requestId: string): VigilError {
  const error = new VigilError('VGL_GATEWAY_BAD_REQUEST', 'the request target must be an absolute path without dot segments');
  const query = target.indexOf('?');
  deps.securityEvents.reject(`hygiene.path_rejected|${clientIp}||${error.code}`, {
    at: deps.clock.now(),
    type: 'hygiene.path_rejected',
    severity: 'medium',
    sourceIp: clientIp,
    identity: null,
    correlationId: requestId,
    route: null,
    details: {
      code: error.code,
      method,
      reason: target.charCodeAt(0) === 47 ? 'a dot segment' : 'a target that is not an absolute path',
      path: (query === -1 ? target : target.slice(0, query)).slice(0, 512),
    },
  });
  return error;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/** The bytes of a percent-encoded string (other characters as their Latin-1 byte), or undefined when an escape is malformed. */
export function percentDecode(text: string): Buffer | undefined {
  const out = Buffer.allocUnsafe(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 37 /* % */) {
      const high = hexValue(text.charCodeAt(i + 1));
      const low = hexValue(text.charCodeAt(i + 2));
      if (high < 0 || low < 0) return undefined;
      out[n++] = (high << 4) | low;
      i += 2;
    } else {
      if (code > 0xff) return undefined;
      out[n++] = code;
    }
  }
  return out.subarray(0, n);
}

/** Percent escapes that would decode a second time into a traversal, a separator or a null byte. */
const DOUBLE_ENCODED = /%(?:2e|2f|5c|00)/i;

/**
 * Why a request path is refused, or undefined. The path is decoded once, and the decoded bytes must
 * be valid UTF-8 (overlong forms such as `%c0%ae` are not), hold no NUL or backslash, no `.` or
 * `..` segment (so `%2e%2e%2f` and `..%2f` are caught), and no escape that decodes again to one.
 */
export function pathProblem(path: string): string | undefined {
  let plain = true;
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code === 92 /* \ */) return 'a backslash';
    if (code === 37 || code > 0x7e || code < 0x21) {
      plain = false;
      break;
    }
  }
  // Plain ASCII without escapes: raw dot segments are refused before routing.
  if (plain) return undefined;
  const bytes = percentDecode(path);
  if (!bytes) return 'a malformed percent escape';
  if (bytes.includes(0)) return 'a null byte';
  if (bytes.includes(92)) return 'an encoded backslash';
  if (!isUtf8(bytes)) return 'invalid or overlong UTF-8';
  const decoded = bytes.toString('utf8');
  for (const segment of decoded.split('/')) if (segment === '.' || segment === '..') return 'an encoded dot segment (path traversal)';
  if (DOUBLE_ENCODED.test(decoded)) return 'a double-encoded separator, dot or null byte';
  return undefined;
}

/** Why a query string is refused, or undefined: malformed escapes, NUL, invalid UTF-8 once decoded. */
export function queryProblem(query: string): string | undefined {
  let plain = true;
  for (let i = 0; i < query.length; i++) {
    const code = query.charCodeAt(i);
    if (code === 37 || code > 0x7e || code === 0) {
      plain = false;
      break;
    }
  }
  if (plain) return undefined;
  const bytes = percentDecode(query);
  if (!bytes) return 'a malformed percent escape in the query';
  if (bytes.includes(0)) return 'a null byte in the query';
  if (!isUtf8(bytes)) return 'invalid UTF-8 in the query';
  return undefined;
}

/** The name of the first header whose value is not valid UTF-8 (node:http hands values over as Latin-1), or undefined. */
export function badHeader(rawHeaders: readonly string[]): string | undefined {
  for (let i = 1; i < rawHeaders.length; i += 2) {
    const value = rawHeaders[i] as string;
    for (let j = 0; j < value.length; j++) {
      const code = value.charCodeAt(j);
      if (code === 0) return rawHeaders[i - 1];
      if (code > 0x7f) {
        if (!isUtf8(Buffer.from(value, 'latin1'))) return rawHeaders[i - 1];
        break;
      }
    }
  }
  return undefined;
}

/** True for a CORS preflight: OPTIONS with Origin and Access-Control-Request-Method. */
export function isPreflight(ctx: GatewayContext): boolean {
  const { headers } = ctx.req;
  return ctx.req.method === 'OPTIONS' && headers.origin !== undefined && headers['access-control-request-method'] !== undefined;
}

/** The media type of a Content-Type header, lower case, parameters dropped. */
export function mediaType(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const semi = header.indexOf(';');
  const type = (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
  return type === '' ? undefined : type;
}

/** `application/json` and the `+json` structured syntax suffix. */
export function isJsonType(type: string | undefined): boolean {
  return type !== undefined && (type === 'application/json' || type.endsWith('+json'));
}

/** True when the request declares a body. */
export function hasBody(ctx: GatewayContext): boolean {
  const length = ctx.req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return ctx.req.headers['transfer-encoding'] !== undefined;
}

function mediaTypeMatcher(ranges: readonly string[]): (type: string | undefined) => boolean {
  const exact = new Set(ranges.filter((r) => !r.endsWith('/*')));
  const prefixes = ranges.filter((r) => r.endsWith('/*')).map((r) => r.slice(0, -1));
  return (type) => type !== undefined && (exact.has(type) || prefixes.some((prefix) => type.startsWith(prefix)));
}

/**
 * Stage 2, protocol hygiene on what arrived before the body: path normalisation, UTF-8 of query
 * and headers, content-type allow list, and OPTIONS only as a CORS preflight on a route whose
 * `methods` do not list it. Coded 400/405/415, each with a security event.
 */
export function hygieneStage(route: RouteConfig, hasCors: boolean, deps: ProtectionDeps): Stage {
  const config = route.hygiene;
  const preflightOnly = hasCors && route.methods.length > 0 && !route.methods.includes('OPTIONS');
  const allowValue = route.methods.join(', ');
  const typeAllowed = config.contentTypes ? mediaTypeMatcher(config.contentTypes) : undefined;
  const checkUtf8 = config.rejectInvalidUtf8;
  return function hygieneCheckStage(ctx) {
    if (preflightOnly && ctx.req.method === 'OPTIONS' && !isPreflight(ctx)) {
      ctx.res.setHeader('allow', allowValue);
      const error = new VigilError('VGL_GATEWAY_METHOD_NOT_ALLOWED', `OPTIONS is not served on this path; allowed: ${allowValue}`);
      recordRejection(deps, ctx, error, 'hygiene.method_not_allowed', 'low', {});
      throw error;
    }
    const { target } = ctx;
    const query = target.indexOf('?');
    const path = query === -1 ? target : target.slice(0, query);
    const problem = pathProblem(path);
    if (problem) {
      const error = new VigilError('VGL_GATEWAY_PATH_REJECTED', `the request path holds ${problem}`);
      recordRejection(deps, ctx, error, 'hygiene.path_rejected', 'medium', { reason: problem, path: path.slice(0, 512) });
      throw error;
    }
    if (checkUtf8) {
      const queryIssue = query === -1 ? undefined : queryProblem(target.slice(query + 1));
      const header = queryIssue ? undefined : badHeader(ctx.req.rawHeaders);
      if (queryIssue || header) {
        const reason = queryIssue ?? `invalid UTF-8 or a null byte in header ${(header as string).slice(0, 64)}`;
        const error = new VigilError('VGL_GATEWAY_INVALID_ENCODING', `the request holds ${reason}`);
        recordRejection(deps, ctx, error, 'hygiene.invalid_encoding', 'medium', { reason });
        throw error;
      }
    }
    if (typeAllowed && hasBody(ctx)) {
      const type = mediaType(ctx.req.headers['content-type']);
      if (!typeAllowed(type)) {
        const error = new VigilError('VGL_GATEWAY_UNSUPPORTED_MEDIA_TYPE', type === undefined ? 'the request body has no Content-Type' : `Content-Type ${type.slice(0, 128)} is not accepted on this route`);
        recordRejection(deps, ctx, error, 'hygiene.unsupported_media_type', 'low', { contentType: type?.slice(0, 128) ?? null });
        throw error;
      }
    }
  };
}

/**
 * Stage 8, body checks: a JSON body streams through the scanner (a body transform, so nothing is
 * buffered), which cuts it at the first limit crossed; the event is recorded when it does.
 */
export function jsonBodyStage(limits: JsonLimits, deps: ProtectionDeps): Stage {
  return function jsonBodyCheckStage(ctx) {
    if (!hasBody(ctx) || !isJsonType(mediaType(ctx.req.headers['content-type']))) return;
    addBodyTransform(ctx, 'request', () => new JsonLimitScanner(limits, (error, reason) => {
      recordRejection(deps, ctx, error, error.code === 'VGL_GATEWAY_JSON_MALFORMED' ? 'hygiene.json_malformed' : 'hygiene.json_limit', 'medium', { reason });
    }));
  };
}

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const EMPTY = Buffer.alloc(0);

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * A small incremental scanner over JSON bytes as they stream upstream: it tracks strings (with
 * escapes), the bracket stack, member count and string length — not a parser, so it costs one pass
 * over the bytes and a stack of `maxDepth` bytes. At the first limit crossed (or broken structure)
 * it throws the coded error, which cuts the upstream request. The last byte seen is always held
 * back until the next chunk, so a document that turns out unterminated at the end never reaches
 * the upstream whole.
 */
export class JsonLimitScanner implements BodyTransform {
  private readonly stack: Uint8Array;
  private depth = 0;
  private keys = 0;
  private inString = false;
  private escaped = false;
  private stringLength = 0;
  /** The top-level value was closed; only whitespace may follow. */
  private ended = false;
  /** The violation is a crossed limit (413), not broken structure (400). */
  private limitHit = false;
  private held: Buffer = EMPTY;

  constructor(
    private readonly limits: JsonLimits,
    private readonly onViolation: (error: VigilError, reason: string) => void,
  ) {
    this.stack = new Uint8Array(limits.maxDepth + 1);
  }

  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return EMPTY;
    const problem = this.scan(chunk);
    if (problem) throw this.fail(problem);
    const out = this.held.length > 0 ? Buffer.concat([this.held, chunk.subarray(0, chunk.length - 1)]) : chunk.subarray(0, chunk.length - 1);
    this.held = chunk.subarray(chunk.length - 1);
    return out;
  }

  end(): Buffer {
    if (this.inString) throw this.fail('an unterminated string');
    if (this.depth > 0) throw this.fail('an unclosed object or array');
    return this.held;
  }

  private fail(reason: string): VigilError {
    const error = this.limitHit
      ? new VigilError('VGL_GATEWAY_JSON_TOO_COMPLEX', `the JSON body has ${reason}`)
      : new VigilError('VGL_GATEWAY_JSON_MALFORMED', `the JSON body holds ${reason}`);
    this.onViolation(error, reason);
    return error;
  }
  /** Advances the state over one chunk; the reason for the first violation, if any. */
  private scan(chunk: Buffer): string | undefined {
    const { maxDepth, maxKeys, maxStringLength } = this.limits;
    const stack = this.stack;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) {
          this.inString = false;
          continue;
        }
        if (++this.stringLength > maxStringLength) {
          this.limitHit = true;
          return `a string longer than ${maxStringLength} bytes`;
        }
        continue;
      }
      if (isSpace(byte)) continue;
      if (this.ended) return 'data after the end of the document';
      switch (byte) {
        case QUOTE:
          this.inString = true;
          this.stringLength = 0;
          if (this.depth === 0) this.ended = true;
          break;
        case OPEN_OBJECT:
        case OPEN_ARRAY:
          if (this.depth >= maxDepth) {
            this.limitHit = true;
            return `nesting deeper than ${maxDepth}`;
          }
          stack[++this.depth] = byte;
          break;
        case CLOSE_OBJECT:
        case CLOSE_ARRAY:
          if (this.depth === 0 || stack[this.depth] !== (byte === CLOSE_OBJECT ? OPEN_OBJECT : OPEN_ARRAY)) return 'an unbalanced bracket';
          if (--this.depth === 0) this.ended = true;
          break;
        case COLON:
          if (stack[this.depth] !== OPEN_OBJECT) return 'a colon outside an object';
          if (++this.keys > maxKeys) {
            this.limitHit = true;
            return `more than ${maxKeys} object members`;
          }
          break;
        default:
          // Numbers, literals and commas: a top-level scalar ends the document at the next space.
          break;
      }
    }
    return undefined;
  }
}
