/**
 * The one error catalogue. Every error Vigil raises on purpose has a stable code here; codes are
 * never reused or renamed. docs/errors.md is generated from this table (`npm run docs`) and a test
 * fails when the two drift apart. Each area's codes live in errors/<area>.ts; this module joins them.
 */
import { CONFIG_ERRORS } from './errors/config.js';
import { STORE_ERRORS } from './errors/store.js';
import { LIFECYCLE_ERRORS } from './errors/lifecycle.js';
import { GATEWAY_ERRORS } from './errors/gateway.js';
import { PROTECTION_ERRORS } from './errors/protection.js';
import { IDENTITY_ERRORS } from './errors/identity.js';
import { CONSOLE_ERRORS } from './errors/console.js';
import { MONITOR_ERRORS } from './errors/monitor.js';
import { ALERTING_ERRORS } from './errors/alerting.js';
import { VAULT_ERRORS } from './errors/vault.js';
import { AUDIT_ERRORS } from './errors/audit.js';
import { TELEMETRY_ERRORS } from './errors/telemetry.js';
import { CLI_ERRORS } from './errors/cli.js';

export interface ErrorSpec {
  /** HTTP status when the error reaches an HTTP client. */
  readonly status: number;
  /** What went wrong, one sentence, for the error-code list. */
  readonly cause: string;
  /** What the operator or caller should do about it. */
  readonly fix: string;
}

const AREAS = [CONFIG_ERRORS, STORE_ERRORS, LIFECYCLE_ERRORS, GATEWAY_ERRORS, PROTECTION_ERRORS, IDENTITY_ERRORS, CONSOLE_ERRORS, MONITOR_ERRORS, ALERTING_ERRORS, VAULT_ERRORS, AUDIT_ERRORS, TELEMETRY_ERRORS, CLI_ERRORS] as const;
type Areas = typeof AREAS;

/** Turns the union of the areas' types into their intersection: one object type with every code. */
type Joined<U> = (U extends unknown ? (area: U) => void : never) extends (joined: infer I) => void ? I : never;

export const ERROR_CATALOGUE: Joined<Areas[number]> = Object.assign({}, ...AREAS);

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Codes that two areas both define. A later area would silently replace the spec, so this must stay empty. */
type Area = keyof Areas & `${number}`;
type CodesInTwoAreas = { [I in Area]: { [J in Area]: J extends I ? never : keyof Areas[I] & keyof Areas[J] }[Area] }[Area];
const _eachCodeInOneArea: [CodesInTwoAreas] extends [never] ? true : CodesInTwoAreas = true;

/**
 * Every code in the order it was introduced, which is the order of docs/errors.md. Append-only, like
 * the codes themselves: a new code goes at the end.
 */
export const ERROR_CODES = [
  'VGL_CONFIG_INVALID',
  'VGL_CONFIG_PARSE',
  'VGL_CONFIG_ENV_UNSET',
  'VGL_CONFIG_NOT_FOUND',
  'VGL_STORE_DATA_DIR',
  'VGL_STORE_FILE_PERMISSIONS',
  'VGL_STORE_FAILED',
  'VGL_STORE_MIGRATION',
  'VGL_LISTEN_FAILED',
  'VGL_AUTH_MISSING',
  'VGL_AUTH_INVALID',
  'VGL_AUTH_FORBIDDEN',
  'VGL_AUTH_ISSUER_UNAVAILABLE',
  'VGL_GATEWAY_NO_ROUTE',
  'VGL_GATEWAY_METHOD_NOT_ALLOWED',
  'VGL_GATEWAY_BAD_REQUEST',
  'VGL_GATEWAY_HEADERS_TOO_LARGE',
  'VGL_GATEWAY_UPSTREAM_UNREACHABLE',
  'VGL_GATEWAY_UPSTREAM_TIMEOUT',
  'VGL_GATEWAY_BODY_TOO_LARGE',
  'VGL_GATEWAY_URI_TOO_LONG',
  'VGL_GATEWAY_REQUEST_TIMEOUT',
  'VGL_GATEWAY_MAX_CONNECTIONS',
  'VGL_GATEWAY_NO_HEALTHY_TARGET',
  'VGL_GATEWAY_TARGET_UNHEALTHY',
  'VGL_GATEWAY_TLS_FILE',
  'VGL_RELOAD_NOT_RUNNING',
  'VGL_GATEWAY_SHUTTING_DOWN',
  'VGL_GATEWAY_PII_BLOCKED',
  'VGL_GATEWAY_PII_UNINSPECTABLE',
  'VGL_GATEWAY_PII_RESPONSE_BLOCKED',
  'VGL_GATEWAY_INTERNAL',
  'VGL_RATE_LIMITED',
  'VGL_CONCURRENCY_LIMITED',
  'VGL_RATE_LIMIT_STORE_UNAVAILABLE',
  'VGL_IP_DENIED',
  'VGL_BANNED',
  'VGL_BAN_ALLOWLISTED',
  'VGL_BAN_NOT_FOUND',
  'VGL_BAN_TARGET_INVALID',
  'VGL_KEY_NOT_FOUND',
  'VGL_CONSOLE_UNAUTHENTICATED',
  'VGL_CONSOLE_FORBIDDEN',
  'VGL_CONSOLE_BAD_REQUEST',
  'VGL_LOGIN_FAILED',
  'VGL_LOGIN_LOCKED',
  'VGL_PASSWORD_WEAK',
  'VGL_PASSWORD_CHANGE_REQUIRED',
  'VGL_USER_NOT_FOUND',
  'VGL_USER_EXISTS',
  'VGL_TOKEN_INVALID',
  'VGL_MFA_REQUIRED',
  'VGL_MFA_INVALID',
  'VGL_MFA_ENROLMENT_REQUIRED',
  'VGL_SESSION_NOT_FOUND',
  'VGL_ROLE_UNKNOWN',
  'VGL_CLI_USAGE',
  'VGL_MONITOR_CHECK_SETUP',
  'VGL_MONITOR_HEARTBEAT_UNAUTHORIZED',
  'VGL_MONITOR_BAD_QUERY',
  'VGL_MONITOR_CHECK_NOT_FOUND',
  'VGL_ALERT_ACTION_FAILED',
  'VGL_ALERT_ROUTE_FALLBACK',
  'VGL_ALERT_EXPORT_UNSUPPORTED',
  'VGL_NOTIFY_FAILED',
  'VGL_ALERT_MATCHER',
  'VGL_ALERT_NOT_FOUND',
  'VGL_ALERT_NOT_FIRING',
  'VGL_ACK_LINK_INVALID',
  'VGL_SILENCE_INVALID',
  'VGL_VAULT_MASTER_KEY_INVALID',
  'VGL_VAULT_MASTER_KEY_WRONG',
  'VGL_VAULT_MASTER_KEY_MISSING',
  'VGL_VAULT_DECRYPT_FAILED',
  'VGL_SECRET_NOT_FOUND',
  'VGL_SECRET_INVALID',
  'VGL_CONFIG_ENV_PLACEHOLDER',
  'VGL_CONFIG_SECRET_UNSET',
  'VGL_AUDIT_WRITE_FAILED',
  'VGL_AUDIT_TAMPERED',
  'VGL_FILE_INVALID',
  'VGL_TRACING_EXPORT_FAILED',
  'VGL_SHUTDOWN_TIMEOUT',
  'VGL_GATEWAY_PATH_REJECTED',
  'VGL_GATEWAY_INVALID_ENCODING',
  'VGL_GATEWAY_UNSUPPORTED_MEDIA_TYPE',
  'VGL_GATEWAY_JSON_TOO_COMPLEX',
  'VGL_GATEWAY_JSON_MALFORMED',
  'VGL_CORS_DENIED',
  'VGL_CSRF_MISSING',
  'VGL_CSRF_INVALID',
  'VGL_CSRF_EXPIRED',
] as const satisfies readonly ErrorCode[];

/** Codes that ERROR_CODES leaves out or lists twice; must stay empty so docs/errors.md lists each code once. */
type Repeated<T extends readonly unknown[], Found = never> = T extends readonly [infer Head, ...infer Rest] ? Repeated<Rest, Found | (Head extends Rest[number] ? Head : never)> : Found;
type MisListed = Exclude<ErrorCode, (typeof ERROR_CODES)[number]> | Repeated<typeof ERROR_CODES>;
const _eachCodeListedOnce: [MisListed] extends [never] ? true : MisListed = true;

/** An error with a stable code from the catalogue. `message` never contains secret values. */
export class VigilError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VigilError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
  }
}

export function isVigilError(err: unknown): err is VigilError {
  return err instanceof VigilError;
}

/** The JSON body every HTTP rejection carries. */
export function errorBody(code: ErrorCode, message: string, requestId: string): string {
  return JSON.stringify({ error: { code, message, requestId } });
}
