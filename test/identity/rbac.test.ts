import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BUILTIN_ROLE_NAMES, BUILTIN_ROLES, PERMISSIONS, RoleTable } from '../../src/identity/rbac.js';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/load.js';
import type { RouteAccess } from '../../src/console/admin-auth.js';
import { addUser, errorCode, sessionHeaders, startIdentityApp } from './support.js';

describe('role table', () => {
  it('has seven built-in roles over at least twenty permissions, owner holding all', () => {
    assert.equal(BUILTIN_ROLE_NAMES.length, 7);
    assert.ok(PERMISSIONS.length >= 20);
    assert.deepEqual([...BUILTIN_ROLES.owner].sort(), [...PERMISSIONS].sort());
    assert.ok(!BUILTIN_ROLES.admin.includes('roles:write'));
    assert.ok(BUILTIN_ROLES.viewer.every((p) => p.endsWith(':read')));
    assert.ok(!BUILTIN_ROLES.viewer.includes('secrets:read'));
    for (const role of BUILTIN_ROLE_NAMES) for (const p of BUILTIN_ROLES[role]) assert.ok(PERMISSIONS.includes(p), `${role}: ${p}`);
  });

  it('resolves custom roles with inheritance and denies unknown roles everything', () => {
    const table = new RoleTable([{ name: 'auditor', inherits: 'viewer', permissions: ['audit:read'], description: 'reads the audit log' }]);
    assert.equal(table.description('auditor'), 'reads the audit log');
    assert.ok(table.builtin('viewer') && !table.builtin('auditor'));
    assert.ok(table.can('auditor', 'audit:read'));
    assert.ok(table.can('auditor', 'monitors:read'));
    assert.ok(!table.can('auditor', 'keys:write'));
    assert.ok(!table.can('ghost', 'monitors:read'));
  });

  it('rejects bad custom roles in config with their YAML path', () => {
    const bad = (roles: unknown): ConfigError => {
      try {
        parseConfig(JSON.stringify({ identity: { roles } }), 't.yaml', {});
      } catch (err) {
        if (err instanceof ConfigError) return err;
        throw err;
      }
      throw new Error('accepted');
    };
    assert.match(bad([{ name: 'owner', permissions: [] }]).message, /identity\.roles\[0\]\.name.*built-in/);
    assert.match(bad([{ name: 'x', permissions: ['keys:destroy'] }]).message, /identity\.roles\[0\]\.permissions\[0\]/);
    assert.match(bad([{ name: 'x', inherits: 'nobody' }]).message, /identity\.roles\[0\]\.inherits/);
    assert.match(bad([{ name: 'x' }, { name: 'x' }]).message, /duplicate role name/);
    assert.match(bad([{ name: 'x', permissions: [], extra: 1 }]).message, /identity\.roles\[0\]/);
  });
});

describe('admin API allow/deny matrix', () => {
  it('answers every registered /api route per role exactly as the role table says', async () => {
    const { app, clock } = await startIdentityApp({ identity: { roles: [{ name: 'auditor', inherits: 'viewer', permissions: ['audit:read'] }] } });
    const roles = app.identity.roles;
    const users = new Map<string, Awaited<ReturnType<typeof addUser>>>();
    for (const role of roles.names()) users.set(role, await addUser(app, `u-${role}`, role, clock.now()));
    const routes = app.console.apiRoutes.filter((r) => r.permission !== 'public' && !/^\/api\/(v1\/)?health(\/|$)/.test(r.url) && r.method !== 'HEAD');
    assert.ok(routes.length >= 10, 'the identity routes at least');
    const table = new Set(routes.map((r) => `${r.method} ${r.url}`));
    for (const expected of [
      'POST /api/v1/users/:username/mfa/reset',
      'GET /api/v1/users/:username/sessions',
      'DELETE /api/v1/users/:username/sessions',
      'DELETE /api/v1/users/:username/sessions/:sessionId',
      'GET /api/v1/roles',
      'POST /api/v1/users/:username/role',
    ]) {
      assert.ok(table.has(expected), `${expected} is in the matrix`);
    }
    for (const route of routes) {
      assert.ok(route.permission !== undefined, `${route.method} ${route.url} declares no permission`);
      const url = route.url.replace(/:username/g, 'nobody').replace(/:id/g, 'aaaaaaaaaaaa').replace(/:(\w+)/g, 'x');
      const anonymous = await app.console.app.inject({ method: route.method as 'GET', url, payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : {} });
      assert.equal(anonymous.statusCode, 401, `${route.method} ${url} without a session`);
      assert.equal(errorCode(anonymous.body), 'VGL_CONSOLE_UNAUTHENTICATED');
      for (const [role, user] of users) {
        const browser = await sessionHeaders(app, user, clock.now());
        const res = await app.console.app.inject({
          method: route.method as 'GET',
          url,
          headers: { ...browser },
          payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : {},
        });
        const denied = res.statusCode === 403 && errorCode(res.body) === 'VGL_CONSOLE_FORBIDDEN';
        const permission: RouteAccess | undefined = route.permission;
        const expected: boolean = permission === 'authenticated' || permission === 'mfa' || (permission !== 'public' && roles.can(role, permission));
        assert.equal(!denied, expected, `${role} on ${route.method} ${url} (${route.permission}): ${res.statusCode} ${res.body}`);
        assert.notEqual(res.statusCode, 401, `${role} on ${route.method} ${url}`);
      }
    }
  });

  it('keeps an admin from granting or taking over a role above its own', async () => {
    const { app, clock } = await startIdentityApp();
    const admin = await addUser(app, 'adm', 'admin', clock.now());
    await addUser(app, 'boss', 'owner', clock.now());
    await addUser(app, 'dev', 'developer', clock.now());
    const browser = await sessionHeaders(app, admin, clock.now());
    const call = (url: string, payload?: object) => app.console.app.inject({ method: 'POST', url, headers: { ...browser }, payload: payload ?? {} });
    for (const res of [await call('/api/v1/users/dev/role', { role: 'owner' }), await call('/api/v1/users/boss/reset-password'), await call('/api/v1/users/boss/disable')]) {
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(errorCode(res.body), 'VGL_CONSOLE_FORBIDDEN');
    }
    const ok = await call('/api/v1/users/dev/role', { role: 'operator' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal((await app.identity.users.get('dev')).role, 'operator');
    assert.equal((await app.identity.users.get('boss')).disabled, false);
  });
});

describe('docs/identity.md', () => {
  it('shows exactly the built-in role table', () => {
    const doc = readFileSync(new URL('../../docs/identity.md', import.meta.url), 'utf8');
    assert.ok(doc.includes(`| permission | ${BUILTIN_ROLE_NAMES.join(' | ')} |`));
    for (const p of PERMISSIONS) {
      const row = `| \`${p}\` | ${BUILTIN_ROLE_NAMES.map((r) => (BUILTIN_ROLES[r].includes(p) ? '✓' : '')).join(' | ')} |`;
      assert.ok(doc.includes(row), `docs/identity.md row for ${p} is stale: expected ${row}`);
    }
  });
});
