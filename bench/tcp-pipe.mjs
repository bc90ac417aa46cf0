// The cheapest proxy Node can be, for the added-latency comparison: each client connection piped to
// its own upstream connection, bytes only (no HTTP parsing, no pool, no headers). Not a usable HTTP
// proxy; it shows what any Node data plane pays on this machine before it reads a single header.
//
//   node bench/tcp-pipe.mjs <upstream-origin> [port]
//
// Prints one JSON line {"ready":true,"port":N} on stdout once listening (bench/serve.mjs lifecycle).
import { connect, createServer } from 'node:net';
import { serve } from './serve.mjs';

const origin = process.argv[2];
if (!origin) {
  console.error('usage: node bench/tcp-pipe.mjs <upstream-origin> [port]');
  process.exit(2);
}
const upstream = new URL(origin);
const sockets = new Set();

const server = createServer((client) => {
  const up = connect({ host: upstream.hostname, port: Number(upstream.port) });
  for (const socket of [client, up]) {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  }
  client.pipe(up);
  up.pipe(client);
  client.on('error', () => up.destroy());
  up.on('error', () => client.destroy());
  client.on('close', () => up.destroy());
  up.on('close', () => client.destroy());
});

// serve.mjs ends an HTTP server's connections with closeAllConnections(); a net server has none.
server.closeAllConnections = () => {
  for (const socket of sockets) socket.destroy();
};
serve(server, process.argv[3]);
