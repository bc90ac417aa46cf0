import type { Server } from 'node:net';
import { VigilError } from './errors.js';

/** Binds a server, turning EADDRINUSE and friends into a coded error naming the listener. */
export function listen(server: Server, host: string, port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(new VigilError('VGL_LISTEN_FAILED', `${what} cannot listen on ${host}:${port}: ${err.code ?? err.message}`, { cause: err }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
