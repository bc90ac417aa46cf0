/* global setInterval */
// One lifecycle for the bench's stand-alone servers (upstream, bare proxy, Express stack, OTLP sink):
// listen on loopback, print `{"ready":true,"port":N}` for the harness, close on SIGTERM/SIGINT, and exit
// by themselves when the harness dies without cleaning up, so nothing lingers as an orphan.

/** `server` is a node:http server that is not listening yet; `onClose` runs after it closed. */
export function serve(server, port, onClose = async () => {}) {
  const shutdown = () => {
    server.close(() => onClose().then(() => process.exit(0)));
    server.closeAllConnections();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) shutdown();
  }, 1000).unref();
  server.listen(Number(port ?? 0), '127.0.0.1', () => {
    console.log(JSON.stringify({ ready: true, port: server.address().port }));
  });
}
