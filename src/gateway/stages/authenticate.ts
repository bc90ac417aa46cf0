import type { Clock } from '../../core/clock.js';
import { VigilError } from '../../core/errors.js';
import type { KeyCache } from '../../identity/api-keys.js';
import type { GatewayContext, Stage } from '../context.js';

/** Reads the API key from `Authorization: Bearer …` or `x-api-key`. */
function presentedKey(ctx: GatewayContext): string | undefined {
  const header = ctx.req.headers.authorization;
  if (header !== undefined) {
    return header.length > 7 && header.slice(0, 7).toLowerCase() === 'bearer ' ? header.slice(7).trim() : '';
  }
  const apiKey = ctx.req.headers['x-api-key'];
  return Array.isArray(apiKey) ? apiKey[0] : apiKey;
}

/** Requires a valid, unrevoked, unexpired API key; the key is kept on the context for later stages and records. */
export const authenticate = (keys: KeyCache, clock: Clock): Stage =>
  function authenticateStage(ctx) {
    const token = presentedKey(ctx);
    if (token === undefined) throw new VigilError('VGL_AUTH_MISSING', 'an API key is required for this route');
    const verdict = keys.verify(token, clock.now(), ctx.clientIp);
    if (!verdict.ok) throw new VigilError('VGL_AUTH_INVALID', 'the API key is invalid, revoked or expired');
    ctx.key = verdict.key;
  };
