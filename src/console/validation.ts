import type { FastifySchemaValidationError, RouteOptions } from 'fastify';
import type { SchemaErrorDataVar } from 'fastify/types/schema.js';

/**
 * The console's request validation: unknown fields are refused, never stripped or ignored, and
 * every validation error names the field. Shared by every route on the console listener.
 */

/** Fastify's ajv options for the console: keep what the client sent, so an unknown field can be refused. */
export const CONSOLE_AJV = { customOptions: { removeAdditional: false as const } };

type Schema = Record<string, unknown>;

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A copy of an object schema closed to unknown fields (`additionalProperties: false`) wherever it
 * does not decide for itself, nested objects and list items included. Schemas combined with
 * `allOf`/`anyOf`/`oneOf` or `$ref` are left as they are (closing them would break the combination).
 */
export function closeSchema(schema: unknown): unknown {
  if (!isSchema(schema) || 'allOf' in schema || 'anyOf' in schema || 'oneOf' in schema || '$ref' in schema) return schema;
  const out: Schema = { ...schema };
  if (isSchema(schema.properties)) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([name, sub]) => [name, closeSchema(sub)]));
  }
  if (schema.items !== undefined) out.items = closeSchema(schema.items);
  if ((schema.type === 'object' || isSchema(schema.properties)) && schema.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** onRoute hook: every body schema declared on the console is closed to unknown fields. */
export function closeBodySchema(route: RouteOptions): void {
  const body = route.schema?.body;
  if (route.schema && body !== undefined) route.schema.body = closeSchema(body);
}

/** `/a/0/b` → `a[0].b`, the way config paths are written elsewhere in Vigil. */
function fieldPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter((p) => p !== '');
  if (extra !== undefined) parts.push(extra);
  return parts.reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path === '' ? part : `${path}.${part}`), '');
}

/** Validation errors as one message naming the field: `unknown field 'x'`, `missing field 'y'`, `'z' must be …`. */
export function formatSchemaErrors(errors: FastifySchemaValidationError[], dataVar: SchemaErrorDataVar): Error {
  const first = errors[0];
  if (!first) return new Error(`invalid ${dataVar}`);
  const { params } = first;
  let message: string;
  if (first.keyword === 'additionalProperties') message = `unknown field '${fieldPath(first.instancePath, String(params.additionalProperty))}' (not accepted here)`;
  else if (first.keyword === 'required') message = `missing field '${fieldPath(first.instancePath, String(params.missingProperty))}'`;
  else {
    const field = fieldPath(first.instancePath);
    message = field === '' ? `${dataVar} ${first.message ?? 'is invalid'}` : `'${field}' ${first.message ?? 'is invalid'}`;
  }
  return new Error(message);
}
