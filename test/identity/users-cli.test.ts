import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runVigil } from '../support/cli.js';
import { tempDir } from '../support/helpers.js';

const vigil = (args: string[], input?: string) => runVigil(args, { input });

describe('vigil users', () => {
  it('adds, lists, changes, resets, unlocks and disables users, with coded errors for bad input', () => {
    const dir = tempDir();
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, `store: { dataDir: ${JSON.stringify(join(dir, 'data'))} }\nidentity: { roles: [{ name: auditor, inherits: viewer, permissions: [audit:read] }] }\n`);
    const added = vigil(['users', 'add', 'alice', '--role', 'operator', '--config', config]);
    assert.equal(added.status, 0, added.stderr);
    const oneTime = added.stdout.trim().split('\n').at(-1) as string;
    assert.match(oneTime, /^[A-Za-z0-9_-]{24}$/);
    assert.match(added.stderr, /shown only now/);

    const chosen = vigil(['users', 'add', 'bob', '--role', 'auditor', '--password-stdin', '--config', config], 'violet-harbour-quantum-7-lantern\n');
    assert.equal(chosen.status, 0, chosen.stderr);
    const weak = vigil(['users', 'add', 'carl', '--role', 'viewer', '--password-stdin', '--config', config], 'password1234\n');
    assert.equal(weak.status, 1);
    assert.match(weak.stderr, /VGL_PASSWORD_WEAK/);
    assert.ok(!weak.stderr.includes('password1234'));

    const list = vigil(['users', 'list', '--json', '--config', config]);
    const users = JSON.parse(list.stdout) as { username: string; role: string; passwordHash?: string; mustChangePassword: boolean }[];
    assert.deepEqual(users.map((u) => [u.username, u.role, u.mustChangePassword]), [['alice', 'operator', true], ['bob', 'auditor', false]]);
    assert.ok(users.every((u) => u.passwordHash === undefined));
    assert.ok(!list.stdout.includes('argon2'));

    assert.equal(vigil(['users', 'set-role', 'alice', 'admin', '--config', config]).status, 0);
    const badRole = vigil(['users', 'set-role', 'alice', 'god', '--config', config]);
    assert.equal(badRole.status, 1);
    assert.match(badRole.stderr, /VGL_ROLE_UNKNOWN/);
    const missing = vigil(['users', 'disable', 'nobody', '--config', config]);
    assert.match(missing.stderr, /VGL_USER_NOT_FOUND/);
    const badName = vigil(['users', 'add', 'Robert"); DROP TABLE users;--', '--role', 'viewer', '--config', config]);
    assert.equal(badName.status, 1);
    assert.match(badName.stderr, /VGL_CONSOLE_BAD_REQUEST/);
    const dup = vigil(['users', 'add', 'alice', '--role', 'viewer', '--config', config]);
    assert.match(dup.stderr, /VGL_USER_EXISTS/);

    const reset = vigil(['users', 'reset-password', 'bob', '--config', config]);
    assert.equal(reset.status, 0, reset.stderr);
    assert.notEqual(reset.stdout.trim(), oneTime);
    assert.equal(vigil(['users', 'unlock', 'bob', '--config', config]).status, 0);
    assert.equal(vigil(['users', 'reset-mfa', 'bob', '--config', config]).status, 0);
    assert.match(vigil(['users', 'reset-mfa', 'ghost', '--config', config]).stderr, /VGL_USER_NOT_FOUND/);
    assert.equal(vigil(['users', 'disable', 'bob', '--config', config]).status, 0);
    const after = JSON.parse(vigil(['users', 'list', '--json', '--config', config]).stdout) as { username: string; role: string; disabled: boolean }[];
    assert.deepEqual(after.map((u) => [u.username, u.role, u.disabled]), [['alice', 'admin', false], ['bob', 'auditor', true]]);
  });
});
