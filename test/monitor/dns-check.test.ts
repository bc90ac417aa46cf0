import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { buildCheck, runOnce } from './support.js';

/**
 * A real (tiny) DNS server on loopback UDP: `svc.vigil.test` has two A records, `slow.vigil.test`
 * is never answered, every other name is NXDOMAIN.
 */
async function startDnsServer(): Promise<string> {
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    let offset = 12;
    const labels: string[] = [];
    while (query[offset] !== 0 && offset < query.length) {
      const length = query[offset] as number;
      labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
      offset += length + 1;
    }
    const questionEnd = offset + 5;
    const name = labels.join('.').toLowerCase();
    if (name === 'slow.vigil.test') return;
    const answers = name === 'svc.vigil.test' && query.readUInt16BE(offset + 1) === 1 ? ['10.1.2.3', '10.1.2.4'] : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8180 | (name === 'svc.vigil.test' ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const records = answers.map((ip) => {
      const record = Buffer.alloc(16);
      record.writeUInt16BE(0xc00c, 0);
      record.writeUInt16BE(1, 2);
      record.writeUInt16BE(1, 4);
      record.writeUInt32BE(60, 6);
      record.writeUInt16BE(4, 10);
      ip.split('.').forEach((part, i) => record.writeUInt8(Number(part), 12 + i));
      return record;
    });
    socket.send(Buffer.concat([header, query.subarray(12, questionEnd), ...records]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  after(() => socket.close());
  return `127.0.0.1:${(socket.address() as AddressInfo).port}`;
}

const server = await startDnsServer();

describe('dns check', () => {
  it('is up with the answers, and checks expected records', async () => {
    const up = await runOnce(buildCheck({ type: 'dns', query: 'svc.vigil.test', server, expect: ['10.1.2.4'], conditions: ['[RECORDS] contains "10.1.2.3"'] }));
    assert.deepEqual([up.status, up.detail], ['up', '2 A record(s): 10.1.2.3, 10.1.2.4']);
    const wrong = await runOnce(buildCheck({ type: 'dns', query: 'svc.vigil.test', server, expect: ['10.9.9.9'] }));
    assert.deepEqual([wrong.status, wrong.detail], ['down', 'expected 10.9.9.9 in the answer, got 10.1.2.3, 10.1.2.4']);
  });

  it('is down with a coded reason for a name that does not exist', async () => {
    const outcome = await runOnce(buildCheck({ type: 'dns', query: 'missing.vigil.test', server }));
    assert.deepEqual([outcome.status, outcome.detail], ['down', 'DNS A lookup failed: name does not exist (ENOTFOUND)']);
  });

  it('is down when the server never answers, within the timeout', async () => {
    const started = Date.now();
    const outcome = await runOnce(buildCheck({ type: 'dns', query: 'slow.vigil.test', server, timeout: 300 }));
    assert.deepEqual([outcome.status, outcome.detail], ['down', 'DNS A lookup failed: no answer in time (ETIMEOUT)']);
    assert.ok(Date.now() - started < 2000);
  });
});
