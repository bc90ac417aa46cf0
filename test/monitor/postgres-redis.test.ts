import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { Redis } from 'ioredis';
import { freePort } from '../support/helpers.js';
import { buildCheck, runOnce } from './support.js';

// Real servers on loopback; these tests fail (not skip) when they are down.
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = 'redis://127.0.0.1:6379';

/** A server that accepts TCP connections and never says a word. */
async function silentServer(): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}


describe('postgres check', () => {
  it('is up after a query, and after a deep write-then-read in the scratch table', async () => {
    const shallow = await runOnce(buildCheck({ type: 'postgres', url: PG_URL }));
    assert.deepEqual([shallow.status, shallow.detail], ['up', 'query ok']);
    const deep = await runOnce(buildCheck({ type: 'postgres', url: PG_URL, deep: true, name: 'pg-deep' }));
    assert.deepEqual([deep.status, deep.detail], ['up', 'query, write and read ok']);
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const rows = await client.query<{ check_name: string }>("SELECT check_name FROM vigil_monitor_probe WHERE check_name = 'pg-deep'");
    await client.end();
    assert.equal(rows.rowCount, 1, 'the deep check really wrote');
  });

  it('is down with the SQLSTATE (not the server text) for a missing database', async () => {
    const outcome = await runOnce(buildCheck({ type: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/no_such_db_vigil' }));
    assert.deepEqual([outcome.status, outcome.detail], ['down', 'PostgreSQL error (SQLSTATE 3D000)']);
  });

  it('is down (refused) on a closed port, and times out on a server that never answers', async () => {
    const refused = await runOnce(buildCheck({ type: 'postgres', url: `postgres://postgres:hunter22@127.0.0.1:${await freePort()}/test` }));
    assert.deepEqual([refused.status, refused.detail], ['down', 'connection refused (ECONNREFUSED)']);
    const started = Date.now();
    const hung = await runOnce(buildCheck({ type: 'postgres', url: `postgres://postgres@127.0.0.1:${await silentServer()}/test`, timeout: 300 }));
    assert.deepEqual([hung.status, hung.detail], ['down', 'timed out after 300ms']);
    assert.ok(Date.now() - started < 2000);
  });
});

describe('redis check', () => {
  it('is up after PING, and after a deep SET/GET of an expiring scratch key', async () => {
    const shallow = await runOnce(buildCheck({ type: 'redis', url: REDIS_URL }));
    assert.deepEqual([shallow.status, shallow.detail], ['up', 'PING ok']);
    const deep = await runOnce(buildCheck({ type: 'redis', url: REDIS_URL, deep: true, name: 'redis-deep' }));
    assert.deepEqual([deep.status, deep.detail], ['up', 'PING, write and read ok']);
    const client = new Redis(REDIS_URL);
    const ttl = await client.ttl('vigil:monitor:probe:redis-deep');
    client.disconnect();
    assert.ok(ttl > 0 && ttl <= 60, `scratch key expires (ttl ${ttl})`);
  });

  it('is down with the Redis error kind and never the password', async () => {
    const outcome = await runOnce(buildCheck({ type: 'redis', url: 'redis://nobody-vigil:hunter22-secret@127.0.0.1:6379' }));
    assert.equal(outcome.status, 'down');
    assert.match(outcome.detail, /^Redis error \([A-Z]+\)$/);
    assert.doesNotMatch(outcome.detail, /hunter22/);
  });

  it('is down (refused) on a closed port, and times out on a server that never answers', async () => {
    const refused = await runOnce(buildCheck({ type: 'redis', url: `redis://127.0.0.1:${await freePort()}` }));
    assert.deepEqual([refused.status, refused.detail], ['down', 'connection refused (ECONNREFUSED)']);
    const started = Date.now();
    const hung = await runOnce(buildCheck({ type: 'redis', url: `redis://127.0.0.1:${await silentServer()}`, timeout: 300 }));
    assert.deepEqual([hung.status, hung.detail], ['down', 'timed out after 300ms']);
    assert.ok(Date.now() - started < 2000);
  });
});
