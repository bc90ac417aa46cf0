import { VigilError } from '../../core/errors.js';
import type { Stage } from '../context.js';

/** Requires every scope the route lists; `*` on a key grants all scopes. */
export const authorize = (required: readonly string[]): Stage =>
  function authorizeStage(ctx) {
    const held = ctx.key?.scopes ?? [];
    if (held.includes('*')) return;
    const missing = required.filter((scope) => !held.includes(scope));
    if (missing.length > 0) throw new VigilError('VGL_AUTH_FORBIDDEN', `the API key lacks scope(s): ${missing.join(', ')}`);
  };
