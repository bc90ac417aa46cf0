import type { ErrorSpec } from '../errors.js';

/** Alert rules, actions, notifications, acknowledgements and silences. */
export const ALERTING_ERRORS = {
  VGL_ALERT_ACTION_FAILED: {
    status: 500,
    cause: 'A rule action (command, webhook or route fallback) failed, timed out, or was refused by the audit log.',
    fix: 'Look at the run in `alert_action_runs` (outcome and detail) and the log line; fix the command, URL or route.',
  },
  VGL_ALERT_ROUTE_FALLBACK: {
    status: 409,
    cause: 'A routeFallback action names a route that the running gateway does not have, or that has no fallback targets.',
    fix: 'Give the route targets with `fallback: true`, or point the action at a route that has them.',
  },
  VGL_ALERT_EXPORT_UNSUPPORTED: {
    status: 400,
    cause: '`vigil alerts export` was asked for a format it does not write.',
    fix: 'Use `--format prometheus`.',
  },
  VGL_NOTIFY_FAILED: {
    status: 502,
    cause: 'A notification could not be delivered; it stays in the outbox and is retried.',
    fix: 'Check the receiver; delivery resumes with backoff until `maxAge`.',
  },
  VGL_ALERT_MATCHER: {
    status: 400,
    cause: 'A label matcher (route, inhibit rule, maintenance window or silence) does not parse, or its regex could backtrack without bound.',
    fix: 'Write `name="value"`, `name!="value"`, `name=~"regex"` or `name!~"regex"`; avoid nested quantifiers like `(a+)+`, back-references and look-arounds.',
  },
  VGL_ALERT_NOT_FOUND: {
    status: 404,
    cause: 'No alert or silence has that ID.',
    fix: 'List alerts with `vigil alerts history` or `GET /api/v1/alerts`, silences with `vigil alerts silence list`.',
  },
  VGL_ALERT_NOT_FIRING: {
    status: 409,
    cause: 'Only a firing alert can be acknowledged; this one is pending or resolved, or it fired again since the link was made.',
    fix: 'Nothing to do for a resolved alert; for a new outage use the link in the newest notification.',
  },
  VGL_ACK_LINK_INVALID: {
    status: 403,
    cause: 'An acknowledge link is malformed, its signature does not verify, or it has expired.',
    fix: 'Use the link from the newest notification, or acknowledge with `vigil alerts ack <id>`; links last `alerting.ackLinkTtl`.',
  },
  VGL_SILENCE_INVALID: {
    status: 400,
    cause: 'A silence needs at least one matcher, an end after its start, an author and a comment.',
    fix: 'For example: `vigil alerts silence add --matcher \'check="db"\' --duration 2h --author alice --comment "db migration"`.',
  },
} as const satisfies Record<string, ErrorSpec>;
