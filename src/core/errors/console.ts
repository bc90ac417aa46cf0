import type { ErrorSpec } from '../errors.js';

/** The admin API of the console. */
export const CONSOLE_ERRORS = {
  VGL_CONSOLE_UNAUTHENTICATED: {
    status: 401,
    cause: 'An admin API request carried no valid console session (or it expired, was revoked, or belongs to a disabled user).',
    fix: 'Log in with `POST /api/v1/auth/login` and send the session cookie it sets.',
  },
  VGL_CONSOLE_FORBIDDEN: {
    status: 403,
    cause: "The signed-in user's role lacks the permission the admin route requires (or the route declares none).",
    fix: 'Ask an owner or admin for a role that holds the permission (`vigil users set-role`); docs/identity.md lists them.',
  },
  VGL_CONSOLE_BAD_REQUEST: {
    status: 400,
    cause: 'An admin API request body or parameter is missing, malformed or too large.',
    fix: 'Send JSON matching the route; the message names the field that was wrong.',
  },
} as const satisfies Record<string, ErrorSpec>;
