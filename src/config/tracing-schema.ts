import { z } from 'zod';
import { httpUrl } from './schema-parts.js';

/** `tracing`: OpenTelemetry spans for gateway requests, exported over OTLP/HTTP. Off by default. */
export const tracingSection = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Record OpenTelemetry spans for gateway requests and export them. Off: the gateway only propagates `traceparent`.'),
    endpoint: httpUrl
      .default('http://127.0.0.1:4318/v1/traces')
      .describe('OTLP/HTTP traces endpoint (JSON encoding). A URL without a path gets `/v1/traces`.'),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name'), z.string())
      .default({})
      .describe('Headers sent with every export, e.g. `authorization: Bearer ${secret:OTLP_TOKEN}`; their values are kept out of logs.'),
    sampleRatio: z
      .number()
      .min(0)
      .max(1)
      .default(0.1)
      .describe('Share of new traces recorded (0 to 1). A caller\'s `traceparent` decides for its own trace (parent-based sampling).'),
    serviceName: z.string().min(1).default('vigil').describe('`service.name` of the exported spans.'),
  })
  .prefault({});
