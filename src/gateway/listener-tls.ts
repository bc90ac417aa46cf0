import { readFileSync, statSync, unwatchFile, watchFile } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import { VigilError } from '../core/errors.js';
import type { Logger } from '../telemetry/logger.js';

export interface ListenerTlsConfig {
  readonly cert: string;
  readonly key: string;
}

/** Reads and checks the listener's certificate and key (the key must be 0600). */
export function readListenerTls(config: ListenerTlsConfig): { cert: Buffer; key: Buffer } {
  const read = (file: string, what: string, secret: boolean): Buffer => {
    let content: Buffer;
    try {
      if (secret && (statSync(file).mode & 0o077) !== 0) throw new VigilError('VGL_GATEWAY_TLS_FILE', `the ${what} ${file} is readable by group or others; chmod 600 it`);
      content = readFileSync(file);
    } catch (err) {
      if (err instanceof VigilError) throw err;
      throw new VigilError('VGL_GATEWAY_TLS_FILE', `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
    }
    return content;
  };
  const pair = { cert: read(config.cert, 'listener certificate', false), key: read(config.key, 'listener key', true) };
  try {
    // Fails on non-PEM content and on a key that does not match the certificate.
    createSecureContext(pair);
  } catch (err) {
    throw new VigilError('VGL_GATEWAY_TLS_FILE', `the listener certificate ${config.cert} and key ${config.key} are not a valid PEM pair`, { cause: err });
  }
  return pair;
}

/**
 * Watches the certificate and key files (polling, which also sees files replaced by rename, as
 * certbot and cert-manager do) and swaps them into the running listener: new connections get the
 * new certificate, open ones keep theirs. A broken pair is logged and the current one stays.
 */
export function watchListenerTls(server: HttpsServer, config: ListenerTlsConfig, logger: Logger, intervalMs = 1000): () => void {
  let timer: NodeJS.Timeout | undefined;
  const reload = (): void => {
    // Both files usually change together: wait for the second one before reading.
    clearTimeout(timer);
    timer = setTimeout(() => {
      try {
        server.setSecureContext(readListenerTls(config));
        logger.info({ cert: config.cert }, 'gateway TLS certificate reloaded');
      } catch (err) {
        logger.error({ err, code: err instanceof VigilError ? err.code : undefined }, 'gateway TLS certificate not reloaded; the current one stays');
      }
    }, intervalMs / 2).unref();
  };
  for (const file of [config.cert, config.key]) watchFile(file, { interval: intervalMs, persistent: false }, reload);
  return () => {
    clearTimeout(timer);
    for (const file of [config.cert, config.key]) unwatchFile(file, reload);
  };
}
