import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ConfigError} from '../../src/config/load.js';
import { parseConfig } from '../../src/config/load.js';
import { runDoctor } from '../../src/vault/doctor.js';
import { checkEnv, parseTemplate } from '../../src/vault/env-check.js';
import { runVigil } from '../support/cli.js';
import { tempDir } from '../support/helpers.js';

const REAL_KEY = 'sk-live-9f8a7b6c5d4e3f2a1b0c';

const TEMPLATE = [
  '# service settings',
  'OPENAI_API_KEY=            # key',
  'WEBHOOK_URL=https://hooks.example.com/x',
  'WORKERS=4                  # number',
  'RETRY_TIMEOUT=5s',
  'GREETING=hello             # string, optional',
  'export DB_PASSWORD=',
].join('\n');

describe('vigil env check', () => {
  it('reports unset, empty, placeholder and misshapen variables without printing values', () => {
    const { vars, errors } = parseTemplate(TEMPLATE);
    assert.deepEqual(errors, []);
    assert.deepEqual(vars.map((v) => [v.name, v.shape, v.required]), [
      ['OPENAI_API_KEY', 'key', true], ['WEBHOOK_URL', 'url', true], ['WORKERS', 'number', true],
      ['RETRY_TIMEOUT', 'duration', true], ['GREETING', 'string', false], ['DB_PASSWORD', 'key', true],
    ]);
    const good = { OPENAI_API_KEY: REAL_KEY, WEBHOOK_URL: 'https://h.example.com/a', WORKERS: '8', RETRY_TIMEOUT: '250ms', DB_PASSWORD: 'Tq8#mZ2!pL9@vX4$' };
    assert.deepEqual(checkEnv(vars, good), []);
    const problems = checkEnv(vars, { OPENAI_API_KEY: 'YOUR_OPENAI_KEY_HERE', WEBHOOK_URL: 'hooks/x', WORKERS: 'four', RETRY_TIMEOUT: 'soon', DB_PASSWORD: '' });
    assert.deepEqual(problems.map((p) => `${p.name}: ${p.problem}`), [
      'OPENAI_API_KEY: holds a placeholder, not a real value',
      'WEBHOOK_URL: is not an absolute URL',
      'WORKERS: is not a number',
      'RETRY_TIMEOUT: is not a duration (500ms, 2s, 5m, 1h, 7d)',
      'DB_PASSWORD: is empty',
    ]);
    for (const placeholder of ['changeme', 'CHANGE_ME', '<your key>', 'xxxxxxxx', 'TODO', 'replace-me']) {
      assert.equal(checkEnv(vars, { ...good, OPENAI_API_KEY: placeholder })[0]?.problem, 'holds a placeholder, not a real value', placeholder);
    }
    assert.match(checkEnv(vars, { ...good, OPENAI_API_KEY: 'short' })[0]?.problem ?? '', /too short for a key/);
    assert.match(parseTemplate('GOOD=1\nthis is not a line\n').errors[0] ?? '', /line 2: expected NAME=value/);
  });

  it('through the CLI: exit 0 when all is well, 1 with findings, never echoing a value', () => {
    const dir = tempDir();
    const template = join(dir, '.env.example');
    writeFileSync(template, TEMPLATE);
    const envFile = join(dir, 'prod.env');
    writeFileSync(envFile, `OPENAI_API_KEY=${REAL_KEY}\nWEBHOOK_URL=https://h.example.com\nWORKERS=2\nRETRY_TIMEOUT=1s\nDB_PASSWORD=changeme\n`);
    const r = runVigil(['env', 'check', '--template', template, '--env-file', envFile]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /DB_PASSWORD \(template line 7\) holds a placeholder/);
    assert.ok(!r.stderr.includes('changeme') && !r.stderr.includes(REAL_KEY));
    const missing = runVigil(['env', 'check', '--template', join(dir, 'absent')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /VGL_FILE_INVALID: cannot read template .*absent: ENOENT/);
  });

  it('vigil start refuses a config whose variables hold placeholders, naming path and line', () => {
    const text = 'alerting:\n  receivers:\n    - { name: r, type: webhook, url: "https://h.example.com", headers: { authorization: "Bearer ${HOOK_TOKEN}" } }\n';
    assert.throws(() => parseConfig(text, 'v.yaml', { HOOK_TOKEN: 'YOUR_TOKEN_HERE' }), (err: ConfigError) => {
      assert.deepEqual(err.issues.map((i) => [i.code, i.path, i.line]), [['VGL_CONFIG_ENV_PLACEHOLDER', 'alerting.receivers[0].headers.authorization', 3]]);
      return true;
    });
    assert.ok(parseConfig(text, 'v.yaml', { HOOK_TOKEN: REAL_KEY }));
  });
});

describe('vigil doctor', () => {
  it('reports loose modes, a readable master key and .env files git would commit, each with its fix', () => {
    const project = tempDir();
    const dataDir = join(project, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    const git = (...args: string[]) => spawnSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: project, encoding: 'utf8' });
    git('init', '-q');
    writeFileSync(join(project, '.gitignore'), '.env.local\n');
    writeFileSync(join(project, '.env'), 'A=1\n');
    writeFileSync(join(project, '.env.local'), 'A=1\n');
    writeFileSync(join(project, '.env.example'), 'A=\n');
    mkdirSync(join(project, 'svc'));
    writeFileSync(join(project, 'svc', '.env.production'), 'A=1\n');
    git('add', 'svc/.env.production');
    git('commit', '-q', '-m', 'oops');
    const config = join(project, 'vigil.yaml');
    writeFileSync(config, 'log: { level: info }\n', { mode: 0o666 });
    chmodSync(config, 0o666);
    writeFileSync(join(dataDir, 'master.key'), 'k\n', { mode: 0o644 });
    chmodSync(join(dataDir, 'master.key'), 0o644);
    writeFileSync(join(dataDir, 'vigil.db'), '', { mode: 0o600 });

    let findings = runDoctor({ dataDir, masterKeyFile: join(dataDir, 'master.key'), configFile: config, projectDir: project });
    const lines = findings.map((f) => `${f.severity} ${f.path.replace(`${project}/`, '')}: ${f.problem} | ${f.fix.replace(new RegExp(`${project}/`, 'g'), '')}`).sort();
    assert.deepEqual(lines, [
      'critical data/master.key: key file has mode 0644; group or others can read it | chmod 600 data/master.key',
      'critical svc/.env.production: is committed to git: its secrets are in the history | git rm --cached svc/.env.production, add it to .gitignore, and rotate every secret it held',
      'critical vigil.yaml: config has mode 0666; group or others can change what Vigil does | chmod 600 vigil.yaml',
      "warning .env: is not ignored by git: the next `git add .` commits it | add '.env' (or '.env*') to .gitignore",
    ]);
    chmodSync(dataDir, 0o755);
    findings = runDoctor({ dataDir, masterKeyFile: undefined, configFile: undefined, projectDir: project });
    assert.ok(findings.some((f) => f.path === dataDir && /chmod 700/.test(f.fix)));

    chmodSync(dataDir, 0o700);
    chmodSync(join(dataDir, 'master.key'), 0o600);
    chmodSync(config, 0o600);
    writeFileSync(join(project, '.gitignore'), '.env*\n!.env.example\n');
    git('rm', '-q', '--cached', 'svc/.env.production');
    const clean = runVigil(['doctor', '--config', config, '--project', project], { env: { VIGIL_DATA_DIR: dataDir } });
    assert.equal(clean.status, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /no problems found/);
  });
});
