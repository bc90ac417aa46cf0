import { z } from 'zod';
import { PII_KINDS } from '../pii/detectors.js';

/** Gateway PII policy of a route, per direction. */

const piiDirection = (body: string, blocked: string) =>
  z
    .strictObject({
      action: z
        .enum(['mask', 'tokenize', 'block'])
        .describe(`\`mask\` replaces each value in the ${body} with its kind (\`[EMAIL]\`); \`tokenize\` with a deterministic keyed token (\`tok_email_…\`, equal values give equal tokens); \`block\` ${blocked}.`),
      kinds: z
        .array(z.enum(PII_KINDS))
        .min(1)
        .default(['email', 'card', 'iban', 'national_id', 'api_key', 'bearer'])
        .describe('PII kinds acted on; `phone` and `ip` are left out by default (they match many numbers and addresses in ordinary traffic).'),
    })
    .optional();

export const routePii = z
  .strictObject({
    request: piiDirection('request body sent upstream', 'refuses the request with 422 `VGL_GATEWAY_PII_BLOCKED` naming the kinds found'),
    response: piiDirection(
      'response body sent to the client',
      'answers 502 `VGL_GATEWAY_PII_RESPONSE_BLOCKED` if no byte was sent yet, else cuts the connection',
    ),
  })
  .optional()
  .describe('PII policy for text bodies as they stream (docs/vault.md). Binary content types pass untouched; a compressed request body is refused (415), and responses are requested uncompressed.');
