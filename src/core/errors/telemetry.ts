import type { ErrorSpec } from '../errors.js';

/** Tracing export. */
export const TELEMETRY_ERRORS = {
  VGL_TRACING_EXPORT_FAILED: {
    status: 502,
    cause: 'A batch of spans could not be sent to `tracing.endpoint` (unreachable, refused, or answered with an error); logged, requests are not affected, the batch is dropped.',
    fix: 'Check that the OTLP/HTTP receiver listens at `tracing.endpoint` (JSON encoding) and that `tracing.headers` carries the credentials it expects.',
  },
} as const satisfies Record<string, ErrorSpec>;
