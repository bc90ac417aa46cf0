import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { startApp, startServer } from '../support/helpers.js';

describe('PII in log lines', () => {
  it('is masked in the real log output by default, and can be turned off', async () => {
    const { app, log } = await startApp({});
    app.logger.warn({ user: 'jane.doe@example.com', detail: 'card 4111 1111 1111 1111, SSN 123-45-6789' }, 'signup from jane.doe@example.com');
    app.logger.flush();
    const line = log.lines.find((l) => l.includes('signup')) ?? '';
    assert.ok(!line.includes('jane.doe@example.com') && !line.includes('4111 1111') && !line.includes('123-45-6789'), line);
    assert.match(line, /"user":"\[EMAIL\]".*card \[CARD\], SSN \[NATIONAL_ID\]/);
    assert.doesNotThrow(() => JSON.parse(line), 'still valid JSON');

    const off = await startApp({ log: { maskPii: [] } });
    off.app.logger.warn({ user: 'jane.doe@example.com' }, 'unmasked');
    off.app.logger.flush();
    assert.ok(off.log.text.includes('jane.doe@example.com'));
  });

  it('is masked in access lines field by field (path, query, request ID, client address), while the stored record keeps them', async () => {
    const { url } = await startServer((_req, res) => res.end('ok'));
    const { app, gatewayUrl, log } = await startApp({
      gateway: { routes: [{ name: 'r', prefix: '/r/', upstream: url, auth: 'none' }] },
      log: { maskPii: ['email', 'card', 'national_id', 'ip'] },
    });
    const seen: string[] = [];
    app.bus.on('access.record', (record) => seen.push(record.path));
    const res = await request(`${gatewayUrl}/r/users/jane.doe@example.com?card=4111111111111111`, { headers: { 'x-request-id': '123-45-6789' } });
    await res.body.dump();
    const plain = await request(`${gatewayUrl}/r/plain?q=1`, { headers: { 'x-request-id': 'plain-1' } });
    await plain.body.dump();
    app.logger.flush();
    const lines = log.lines.filter((l) => l.includes('"access":'));
    assert.equal(lines.length, 2);
    const [masked, clean] = lines as [string, string];
    assert.ok(!masked.includes('jane.doe@example.com') && !masked.includes('4111111111111111') && !masked.includes('123-45-6789'), masked);
    const access = (JSON.parse(masked) as { access: Record<string, unknown> }).access;
    assert.equal(access.path, '/r/users/[EMAIL]?card=[CARD]');
    assert.equal(access.requestId, '[NATIONAL_ID]');
    assert.equal(access.clientIp, '[IP]', "'ip' in log.maskPii masks the client address too");
    assert.equal((JSON.parse(clean) as { access: Record<string, unknown> }).access.path, '/r/plain?q=1');
    assert.equal(seen[0], '/r/users/jane.doe@example.com?card=4111111111111111', 'the access record itself is not masked (only logs are)');
  });
});
