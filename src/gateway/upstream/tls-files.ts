import { readFileSync, statSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { VigilError } from '../../core/errors.js';

export interface UpstreamTlsConfig {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly serverName?: string | undefined;
}

function readPem(file: string, what: string, secret: boolean): Buffer {
  let content: Buffer;
  try {
    if (secret && (statSync(file).mode & 0o077) !== 0) {
      throw new VigilError('VGL_GATEWAY_TLS_FILE', `the ${what} ${file} is readable by group or others; chmod 600 it`);
    }
    content = readFileSync(file);
  } catch (err) {
    if (err instanceof VigilError) throw err;
    throw new VigilError('VGL_GATEWAY_TLS_FILE', `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  if (!content.includes('-----BEGIN ')) throw new VigilError('VGL_GATEWAY_TLS_FILE', `the ${what} ${file} is not PEM`);
  return content;
}

/** The TLS options of a route's `upstreamTls`, with the files read now (start and reload). */
export function upstreamTlsOptions(tls: UpstreamTlsConfig | undefined): ConnectionOptions {
  if (!tls) return {};
  return {
    ...(tls.ca !== undefined && { ca: readPem(tls.ca, 'CA file', false) }),
    ...(tls.cert !== undefined && { cert: readPem(tls.cert, 'client certificate', false) }),
    ...(tls.key !== undefined && { key: readPem(tls.key, 'client key', true) }),
    ...(tls.serverName !== undefined && { servername: tls.serverName }),
  };
}
