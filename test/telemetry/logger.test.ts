import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestIdFrom } from '../../src/telemetry/context.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { SecretScrubber } from '../../src/telemetry/redact.js';
import { LogCapture } from '../support/helpers.js';

function logger(extraRedact: string[] = []) {
  const out = new LogCapture();
  const scrubber = new SecretScrubber();
  scrubber.add('canary-Secret-Value-9f3a');
  const log = createLogger({ level: 'info', format: 'json', redact: extraRedact, scrubber, destination: out });
  return { log, out };
}

describe('logger', () => {
  it('redacts credentials by field path in the real JSON output', () => {
    const { log, out } = logger(['upstream.token']);
    log.info(
      {
        req: { headers: { authorization: 'Bearer abcdefgh12345678', cookie: 'sid=1', 'x-api-key': 'k', accept: '*/*' } },
        user: { password: 'hunter2hunter2' },
        upstream: { token: 't0k' },
      },
      'incoming',
    );
    const line = out.records()[0] as { req: { headers: Record<string, string> }; user: { password: string }; upstream: { token: string } };
    assert.equal(line.req.headers.authorization, '[REDACTED]');
    assert.equal(line.req.headers.cookie, '[REDACTED]');
    assert.equal(line.req.headers['x-api-key'], '[REDACTED]');
    assert.equal(line.req.headers.accept, '*/*');
    assert.equal(line.user.password, '[REDACTED]');
    assert.equal(line.upstream.token, '[REDACTED]');
  });

  it('removes registered secret values, Vigil keys and bearer tokens wherever they appear, stacks included', () => {
    const { log, out } = logger();
    const key = `vgl_${'abcdefgh2345'}_${'Z'.repeat(32)}`;
    log.error({ err: new Error('upstream said: canary-Secret-Value-9f3a is wrong') }, `failed with ${key}`);
    log.warn({ detail: { nested: ['x', 'Authorization: Bearer eyJhbGciOi.payload.sig'] } }, 'header dump');
    assert.ok(!out.text.includes('canary-Secret-Value-9f3a'), out.text);
    assert.ok(!out.text.includes(key));
    assert.ok(!out.text.includes('eyJhbGciOi'));
    assert.equal(out.lines.length, 2);
    for (const line of out.records()) assert.ok(JSON.stringify(line).includes('[REDACTED]'));
  });

  it('accepts sane caller request IDs and replaces hostile ones', () => {
    assert.equal(requestIdFrom('abc-123_x.y:z'), 'abc-123_x.y:z');
    assert.equal(requestIdFrom(['first', 'second']), 'first');
    for (const bad of ['', 'a b', 'x'.repeat(129), 'id\n{"level":"fatal"}', undefined]) {
      assert.match(requestIdFrom(bad), /^[0-9a-f-]{36}$/);
    }
  });
});
