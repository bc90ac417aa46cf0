import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { App } from '../../src/app.js';
import { addUser, errorCode, sessionHeaders, startIdentityApp } from '../identity/support.js';
import type { BrowserHeaders } from '../support/helpers.js';

const CANARY = 'canary-admin-api-secret-77ab-NEVER-LOG';

async function call(app: App, method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, browser?: BrowserHeaders, payload?: unknown, raw?: string) {
  const headers: Record<string, string> = { ...browser };
  if (payload !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
  const res = await app.console.app.inject({ method, url, headers, payload: raw ?? (payload === undefined ? undefined : JSON.stringify(payload)) });
  return { status: res.statusCode, body: res.body, json: () => JSON.parse(res.body) as Record<string, unknown> };
}

describe('secrets admin API', () => {
  it('enforces secrets:read / secrets:write, audits, and never logs a value', async () => {
    const { app, clock, log } = await startIdentityApp();
    const now = clock.now();
    const admin = await sessionHeaders(app, await addUser(app, 'sec', 'security-admin', now), now);
    const viewer = await sessionHeaders(app, await addUser(app, 'view', 'viewer', now), now);
    const operator = await sessionHeaders(app, await addUser(app, 'ops', 'operator', now), now);

    const anon = await call(app, 'GET', '/api/v1/secrets');
    assert.equal(anon.status, 401);
    assert.equal((await call(app, 'GET', '/api/v1/secrets', viewer)).status, 403);
    assert.equal(errorCode((await call(app, 'PUT', '/api/v1/secrets/TOKEN', operator, { value: 'x' })).body)?.startsWith('VGL_'), true);
    assert.equal((await call(app, 'PUT', '/api/v1/secrets/TOKEN', operator, { value: 'x' })).status, 403);
    assert.equal((await call(app, 'POST', '/api/v1/secrets/TOKEN/reveal', viewer, {})).status, 403);

    const created = await call(app, 'PUT', '/api/v1/secrets/TOKEN', admin, { value: CANARY });
    assert.equal(created.status, 201, created.body);
    assert.deepEqual(created.json(), { name: 'TOKEN', version: 1 });
    assert.equal((await call(app, 'PUT', '/api/v1/secrets/TOKEN', admin, { value: 'second' })).status, 200);
    const listed = await call(app, 'GET', '/api/v1/secrets', admin);
    assert.equal(listed.status, 200);
    assert.ok(!listed.body.includes(CANARY));
    assert.deepEqual((listed.json().secrets as { name: string; version: number }[]).map((s) => [s.name, s.version]), [['TOKEN', 2]]);
    const revealed = await call(app, 'POST', '/api/v1/secrets/TOKEN/reveal', admin, { version: 1 });
    assert.equal(revealed.json().value, CANARY);
    assert.deepEqual((await call(app, 'POST', '/api/v1/secrets/TOKEN/rollback', admin, { version: 1 })).json(), { name: 'TOKEN', version: 3 });
    assert.equal((await call(app, 'GET', '/api/v1/secrets/TOKEN/versions', admin)).status, 200);
    assert.equal((await call(app, 'DELETE', '/api/v1/secrets/TOKEN', admin)).status, 200);
    const gone = await call(app, 'POST', '/api/v1/secrets/TOKEN/reveal', admin, {});
    assert.deepEqual([gone.status, errorCode(gone.body)], [404, 'VGL_SECRET_NOT_FOUND']);

    const actions = [];
    for await (const e of app.vault.audit.pages()) if (e.action.startsWith('secrets.') && e.result !== 'requested') actions.push(`${e.actor} ${e.action} ${e.result}`);
    assert.deepEqual(actions, ['sec secrets.set success', 'sec secrets.set success', 'sec secrets.reveal success', 'sec secrets.rollback success', 'sec secrets.delete success', 'sec secrets.reveal failure']);
    app.logger.flush();
    assert.ok(!log.text.includes(CANARY), 'the value never reaches the log');
  });

  it('answers malformed, oversized and hostile input with coded 4xx errors, storing nothing', async () => {
    const { app, clock } = await startIdentityApp();
    const now = clock.now();
    const admin = await sessionHeaders(app, await addUser(app, 'sec', 'security-admin', now), now);
    const cases: [string, string, unknown, string | undefined, number][] = [
      ['PUT', '/api/v1/secrets/bad%20name', { value: 'x' }, undefined, 400],
      ['PUT', '/api/v1/secrets/..%2Fetc', { value: 'x' }, undefined, 400],
      ['PUT', '/api/v1/secrets/vigil.audit-signing-key', { value: 'x' }, undefined, 400],
      ['PUT', '/api/v1/secrets/OK', {}, undefined, 400],
      ['PUT', '/api/v1/secrets/OK', { value: '' }, undefined, 400],
      ['PUT', '/api/v1/secrets/OK', { value: 'x'.repeat(70_000) }, undefined, 400],
      ['PUT', '/api/v1/secrets/OK', undefined, '{"value": "x"', 400],
      ['POST', '/api/v1/secrets/OK/rollback', { version: 'one' }, undefined, 400],
      ['POST', '/api/v1/secrets/OK/rollback', { version: 0 }, undefined, 400],
    ];
    for (const [method, url, payload, raw, status] of cases) {
      const res = await call(app, method as 'PUT', url, admin, payload, raw);
      assert.equal(res.status, status, `${method} ${url} ${res.body}`);
      assert.match(errorCode(res.body) ?? '', /^VGL_/, res.body);
      assert.doesNotMatch(res.body, /\n\s+at /);
    }
    assert.deepEqual((await call(app, 'GET', '/api/v1/secrets', admin)).json(), { secrets: [] });
  });
});
