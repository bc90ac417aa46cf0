import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startApp } from '../support/helpers.js';

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
});
