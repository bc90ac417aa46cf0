import { App } from '../../app.js';
import type { LoadedConfig } from '../../config/load.js';
import { loadConfigWithSecrets } from '../../vault/config-secrets.js';
import { isVigilError } from '../../core/errors.js';
import { writePidFile } from './reload.js';

/** Starts the app and stops it gracefully on SIGTERM/SIGINT; a second signal forces exit. */
export async function runUntilSignal(loaded: LoadedConfig, onStarted?: (app: App) => Promise<void> | void, reread?: () => Promise<LoadedConfig>): Promise<void> {
  const app = new App(loaded, {
    // The terminal, not the log: the password must not end up in log storage.
    onBootstrapOwner: (username, password) => console.error(`\nFirst start: created user '${username}' with one-time password\n\n  ${password}\n\nIt is shown only now. Sign in and change it (POST /api/v1/auth/password).\n`),
  });
  await app.start();
  const removePidFile = writePidFile(loaded, process.env);
  process.once('exit', removePidFile);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.exit(130);
    }
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // SIGHUP re-reads the config file and swaps the gateway routes; an invalid file changes nothing.
  process.on('SIGHUP', () => {
    if (!reread || stopping) return;
    reread().then(
      (next) => app.reloadRoutes(next),
      (err: unknown) => app.logger.error({ err, code: isVigilError(err) ? err.code : undefined }, 'reload refused: the configuration is invalid; the running routes stay'),
    ).catch((err: unknown) => app.logger.error({ err }, 'reload failed'));
  });
  // A stray rejection is a bug to report, not a reason to drop every connection in flight.
  process.on('unhandledRejection', (err) => app.logger.error({ err }, 'unhandled promise rejection'));
  await onStarted?.(app);
}

export async function runStart(opts: { config?: string }): Promise<void> {
  return runUntilSignal(await loadConfigWithSecrets(opts.config, process.env), undefined, () => loadConfigWithSecrets(opts.config, process.env));
}
