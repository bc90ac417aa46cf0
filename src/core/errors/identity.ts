import type { ErrorSpec } from '../errors.js';

/** Identity: API keys, users, logins, passwords, tokens, MFA, sessions, roles. */
export const IDENTITY_ERRORS = {
  VGL_KEY_NOT_FOUND: {
    status: 404,
    cause: 'No API key has the given ID.',
    fix: 'List keys with `vigil keys list`.',
  },
  VGL_LOGIN_FAILED: {
    status: 401,
    cause: 'The username or password is wrong, or the account is disabled (one answer for all, so accounts cannot be probed).',
    fix: 'Check the credentials; an administrator can reset the password with `vigil users reset-password`.',
  },
  VGL_LOGIN_LOCKED: {
    status: 429,
    cause: 'Too many failed logins for this account or from this address; logins are refused until the lock ends.',
    fix: 'Wait for the time in `Retry-After`; a locked owner can run `vigil users unlock NAME` on the Vigil host.',
  },
  VGL_PASSWORD_WEAK: {
    status: 400,
    cause: 'The new password is too short, too long (over 128 characters), or common or guessable.',
    fix: 'Choose a longer passphrase of unrelated words; the message says which rule failed.',
  },
  VGL_PASSWORD_CHANGE_REQUIRED: {
    status: 403,
    cause: 'The account still has its one-time password; nothing else is allowed until it is changed.',
    fix: 'Set a new password with `POST /api/v1/auth/password`.',
  },
  VGL_USER_NOT_FOUND: {
    status: 404,
    cause: 'No user has the given name.',
    fix: 'List users with `vigil users list`.',
  },
  VGL_USER_EXISTS: {
    status: 409,
    cause: 'A user with that name already exists.',
    fix: 'Choose another name, or change the existing user.',
  },
  VGL_TOKEN_INVALID: {
    status: 401,
    cause: 'A JWT or refresh token is malformed, wrongly signed, expired, not yet valid, for another issuer or audience, of the wrong type, revoked or replayed.',
    fix: 'Log in again for a new token pair; a replayed refresh token has revoked its whole family.',
  },
  VGL_MFA_REQUIRED: {
    status: 401,
    cause: 'The password was right, but the account uses TOTP and no valid second factor was given yet.',
    fix: 'Send the 6-digit code from the authenticator (or a recovery code) to `POST /api/v1/auth/mfa/verify`, or as `code` to `/api/v1/auth/token`.',
  },
  VGL_MFA_INVALID: {
    status: 401,
    cause: 'The TOTP code is wrong, outside the ±30 s window, already used, or the recovery code is unknown or spent.',
    fix: 'Wait for the next code and try again; failures count toward the account lockout.',
  },
  VGL_MFA_ENROLMENT_REQUIRED: {
    status: 403,
    cause: "The user's role requires TOTP (`identity.mfa.requiredRoles`) and the user has not enrolled.",
    fix: 'Enrol with `POST /api/v1/auth/mfa/enrol`, then confirm a code with `POST /api/v1/auth/mfa/confirm`.',
  },
  VGL_SESSION_NOT_FOUND: {
    status: 404,
    cause: 'The user has no live console session with the given ID (it ended, expired, or never existed).',
    fix: 'List the live sessions with `GET /api/v1/users/:username/sessions`.',
  },
  VGL_ROLE_UNKNOWN: {
    status: 400,
    cause: 'The role is neither built in nor defined under `identity.roles`.',
    fix: 'Use one of the roles listed in docs/identity.md or define it in the configuration.',
  },
} as const satisfies Record<string, ErrorSpec>;
