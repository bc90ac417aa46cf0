import { z } from 'zod';

/** Gateway TLS: to the upstream targets of a route, and of the gateway listener. */

const filePath = z.string().min(1).max(4096);

export const routeUpstreamTls = z
  .strictObject({
    ca: filePath.optional().describe('PEM file of the CA(s) that signed the upstream certificates, instead of the system CAs.'),
    cert: filePath.optional().describe('PEM client certificate presented to the upstream (mutual TLS); needs `key`.'),
    key: filePath.optional().describe('PEM private key of `cert`; must not be readable by group or others (mode 0600).'),
    serverName: z.string().min(1).max(253).optional().describe('Name checked against the upstream certificate (SNI), when it differs from the URL host.'),
  })
  .optional()
  .describe('TLS to `https://` targets: custom CA and client certificate. Files are read at start and on reload.');

/** `cert` and `key` come together. */
export function checkRouteTls(route: { upstreamTls?: { cert?: string | undefined; key?: string | undefined } | undefined }, path: (string | number)[], ctx: z.RefinementCtx): void {
  const tls = route.upstreamTls;
  if (tls && (tls.cert === undefined) !== (tls.key === undefined)) {
    ctx.addIssue({ code: 'custom', path: [...path, 'upstreamTls', tls.cert === undefined ? 'cert' : 'key'], message: 'set both `cert` and `key` for a client certificate' });
  }
}

export const listenerTls = z
  .strictObject({
    cert: filePath.describe('PEM certificate (chain) of the gateway listener.'),
    key: filePath.describe('PEM private key of `cert`; must not be readable by group or others (mode 0600).'),
  })
  .optional()
  .describe('Serve HTTPS instead of HTTP. Both files are watched and swapped in without a restart when they change.');
