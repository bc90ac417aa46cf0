import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../../core/clock.js';
import { VigilError } from '../../core/errors.js';
import type { ErrorCode } from '../../core/errors.js';
import type { SecurityEventRecorder } from '../../identity/security-events.js';
import type { PiiKind, PiiMatch } from '../../pii/detectors.js';
import { PiiStreamScanner } from '../../pii/stream.js';
import type { PiiTokenizer } from '../../pii/tokenize.js';
import type { BodyTransformFactory } from '../body-transform.js';
import { addBodyTransform } from '../body-transform.js';
import type { GatewayContext, Stage } from '../context.js';
import type { CompiledRoute } from '../router.js';

type Direction = 'request' | 'response';
type Action = 'mask' | 'tokenize' | 'block';

export interface PiiPolicyDeps {
  clock: Clock;
  securityEvents: SecurityEventRecorder;
  /** The vault's tokenizer (its key is created on first use), fetched once per route table. */
  piiTokenizer: () => Promise<PiiTokenizer>;
}

/**
 * Bodies the policy reads: text, JSON, XML, forms, multipart, SSE, NDJSON, and bodies that do not
 * say what they are. Anything else (images, audio, octet-stream, PDF, protobuf…) passes untouched.
 */
const INSPECTED = /^\s*(?:text\/|multipart\/form-data|application\/(?:json|x-ndjson|jsonl|x-www-form-urlencoded|xml|javascript|graphql|[\w.+-]+\+(?:json|xml))\s*(?:[;,]|$))/i;

export function inspectable(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  return type === undefined || type === '' || INSPECTED.test(type);
}

function encoded(headers: IncomingHttpHeaders): string | undefined {
  const encoding = headers['content-encoding']?.trim().toLowerCase();
  return encoding && encoding !== 'identity' ? encoding : undefined;
}

/** The caller as security events name it: `key:<id>`, or `<issuer>:<subject>` for a JWT. */
function callerIdentity(ctx: GatewayContext): string | null {
  const { caller } = ctx;
  if (!caller) return null;
  return caller.keyId !== null ? `key:${caller.keyId}` : `${caller.issuer ?? 'jwt'}:${caller.subject}`;
}

const CODES: Record<Direction, { blocked: ErrorCode; what: string }> = {
  request: { blocked: 'VGL_GATEWAY_PII_BLOCKED', what: 'the request body' },
  response: { blocked: 'VGL_GATEWAY_PII_RESPONSE_BLOCKED', what: 'the upstream response' },
};

/**
 * A route's PII policy as a stage: it adds a streaming scanner to the request and/or response
 * body. Values are never logged or put in an error; a block names the kinds found and records a
 * security event.
 */
export function piiPolicy(route: CompiledRoute, deps: PiiPolicyDeps): Stage | undefined {
  const policy = route.config.pii;
  if (!policy || (!policy.request && !policy.response)) return undefined;
  const needsTokens = policy.request?.action === 'tokenize' || policy.response?.action === 'tokenize';
  const tokens: { tokenizer?: PiiTokenizer } = {};
  const factory = (direction: Direction, rule: { action: Action; kinds: PiiKind[] }): BodyTransformFactory => {
    const kinds = new Set(rule.kinds);
    return (ctx, headers) => {
      if (!inspectable(headers)) return undefined;
      const encoding = encoded(headers);
      if (encoding !== undefined) {
        if (direction === 'request') {
          throw new VigilError('VGL_GATEWAY_PII_UNINSPECTABLE', `the route inspects request bodies for PII; a ${encoding}-encoded body cannot be inspected, send it uncompressed`);
        }
        throw new VigilError('VGL_GATEWAY_PII_RESPONSE_BLOCKED', `the upstream sent a ${encoding}-encoded response, which cannot be inspected for PII`);
      }
      return new PiiStreamScanner(handler(ctx, direction, rule.action, kinds));
    };
  };
  const handler = (ctx: GatewayContext, direction: Direction, action: Action, kinds: ReadonlySet<PiiKind>) => {
    if (action === 'block') {
      return {
        kinds,
        found(matches: readonly PiiMatch[]) {
          const found = [...new Set(matches.map((m) => m.kind))].sort();
          // A caller repeating a blocked body is stored about once a second, with a count of the rest.
          deps.securityEvents.reject(`gateway.pii_blocked|${ctx.clientIp}|${route.name}|${direction}|${found.join()}`, {
            at: deps.clock.now(),
            type: 'gateway.pii_blocked',
            severity: 'medium',
            sourceIp: ctx.clientIp,
            identity: callerIdentity(ctx),
            correlationId: ctx.requestId,
            details: { route: route.name, direction, kinds: found },
          });
          throw new VigilError(CODES[direction].blocked, `${CODES[direction].what} holds PII the route blocks: ${found.join(', ')}`);
        },
      };
    }
    if (action === 'mask') return { kinds, replace: (m: PiiMatch) => `[${m.kind.toUpperCase()}]` };
    const tokenizer = tokens.tokenizer as PiiTokenizer;
    return { kinds, replace: (m: PiiMatch) => tokenizer.token(m.kind, m.value) };
  };
  const request = policy.request ? factory('request', policy.request) : undefined;
  const response = policy.response ? factory('response', policy.response) : undefined;
  const attach = (ctx: GatewayContext): void => {
    // WebSocket frames are not bodies the transforms see: a route that must inspect refuses the tunnel.
    if (ctx.req.headers.upgrade !== undefined) {
      throw new VigilError('VGL_GATEWAY_PII_UNINSPECTABLE', 'the route inspects bodies for PII; a WebSocket (Upgrade) connection cannot be inspected');
    }
    if (request) addBodyTransform(ctx, 'request', request);
    if (response) addBodyTransform(ctx, 'response', response);
  };
  if (!needsTokens) return attach;
  return async function piiPolicyStage(ctx) {
    tokens.tokenizer ??= await deps.piiTokenizer();
    attach(ctx);
  };
}
