import type { Clock } from '../../core/clock.js';
import { VigilError } from '../../core/errors.js';
import type { SecurityEventRecorder } from '../../identity/security-events.js';
import type { Caller, Stage } from '../context.js';
import { claimAt } from '../jwt-trust.js';
import { rejectAuth } from './authenticate.js';

export interface AuthorizeRules {
  /** Every one required; `*` held grants all. */
  scopes: readonly string[];
  /** At least one required (JWT callers). */
  roles: readonly string[];
  /** Per claim, one of the values required (JWT callers). */
  claims: Readonly<Record<string, readonly (string | number | boolean)[]>>;
}

/** True when a rule set has anything to check (else the stage is left out). */
export function hasRules(rules: AuthorizeRules): boolean {
  return rules.scopes.length > 0 || rules.roles.length > 0 || Object.keys(rules.claims).length > 0;
}

/** Why the caller does not meet the rules, or undefined when it does. */
function shortfall(caller: Caller, rules: AuthorizeRules, claims: readonly (readonly [string, readonly (string | number | boolean)[]])[]): string | undefined {
  const who = caller.method === 'apiKey' ? 'the API key' : 'the token';
  if (!caller.scopes.includes('*')) {
    const missing = rules.scopes.filter((scope) => !caller.scopes.includes(scope));
    if (missing.length > 0) return `${who} lacks scope(s): ${missing.join(', ')}`;
  }
  if (rules.roles.length > 0 && !rules.roles.some((role) => caller.roles.includes(role))) {
    return `${who} holds none of the roles: ${rules.roles.join(', ')}`;
  }
  for (const [name, allowed] of claims) {
    const value = caller.claims === null ? undefined : claimAt(caller.claims, name);
    const held = Array.isArray(value) ? (value as unknown[]) : [value];
    if (!held.some((v) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && allowed.includes(v))) {
      return `${who} does not carry claim '${name}' with one of: ${allowed.join(', ')}`;
    }
  }
  return undefined;
}

/**
 * Requires the route's scopes (all), roles (one of) and claim values (one per claim) of the caller
 * the authenticate stage established; 403 VGL_AUTH_FORBIDDEN naming what is missing. A key caller
 * has no roles or claims, so it never meets `roles` or `claims` rules (fail closed).
 */
export function authorize(rules: AuthorizeRules, events: SecurityEventRecorder, clock: Clock): Stage {
  const claims = Object.entries(rules.claims);
  return function authorizeStage(ctx) {
    const why = ctx.caller ? shortfall(ctx.caller, rules, claims) : 'no authenticated caller';
    if (why !== undefined) throw rejectAuth(ctx, events, clock, new VigilError('VGL_AUTH_FORBIDDEN', why));
  };
}
