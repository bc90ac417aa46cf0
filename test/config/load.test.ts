import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, defaultConfig, loadConfigFile, parseConfig } from '../../src/config/load.js';
import { VigilError } from '../../src/core/errors.js';
import { tempDir } from '../support/helpers.js';

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): ConfigError['issues'] {
  try {
    parseConfig(text, 'test.yaml', env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail('config was accepted');
}

describe('config loading', () => {
  it('runs on defaults with no file: loopback listeners on 8080 and 9090', () => {
    const { config } = defaultConfig();
    assert.deepEqual(config.gateway.listen, { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(config.console.listen, { host: '127.0.0.1', port: 9090 });
    assert.equal(config.shutdown.timeout, 10_000);
    assert.ok(Object.isFrozen(config.gateway.listen), 'config is frozen after validation');
  });

  it('parses durations and fills nested defaults', () => {
    const { config } = parseConfig(
      'gateway:\n  routes:\n    - { name: a, prefix: /a/, upstream: "http://127.0.0.1:1", timeouts: { response: 1.5s } }\n',
      't',
      {},
    );
    const route = config.gateway.routes[0];
    assert.equal(route?.timeouts.response, 1500);
    assert.equal(route?.timeouts.connect, 5000);
    assert.equal(route?.auth, 'apiKey');
  });

  it('reports malformed YAML with its line', () => {
    const issues = issuesOf('gateway:\n  listen: { port: 1\n  routes: []\n');
    assert.equal(issues[0]?.code, 'VGL_CONFIG_PARSE');
    assert.ok(typeof issues[0]?.line === 'number');
    assert.deepEqual(issuesOf('a: 1\na: 2\n').map((i) => i.code), ['VGL_CONFIG_PARSE']);
  });

  it('reports every problem at once, each with its YAML path and line', () => {
    const yaml = [
      'gateway:', //                      1
      '  listen: { port: 99999 }', //     2
      '  routes:', //                     3
      '    - name: Agents', //            4
      '      prefix: agents', //          5
      '      upstream: ftp://x', //       6
      '      bogus: 1', //                7
      'monitor:', //                      8
      '  checks:', //                     9
      '    - name: a', //                 10
      '      type: http', //              11
      '      url: http://h/', //          12
      '      interval: soon', //          13
      'surprise: true', //                14
    ].join('\n');
    const issues = issuesOf(yaml);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    assert.equal(byPath['gateway.listen.port']?.line, 2);
    assert.equal(byPath['gateway.routes[0].name']?.line, 4);
    assert.equal(byPath['gateway.routes[0].prefix']?.line, 5);
    assert.equal(byPath['gateway.routes[0].upstream']?.line, 6);
    assert.equal(byPath['gateway.routes[0].bogus']?.message, 'unknown key');
    assert.equal(byPath['gateway.routes[0].bogus']?.line, 7);
    assert.match(byPath['monitor.checks[0].interval']?.message ?? '', /not a duration/);
    assert.equal(byPath['monitor.checks[0].interval']?.line, 13);
    assert.equal(byPath.surprise?.line, 14);
    assert.ok(issues.every((i) => i.code === 'VGL_CONFIG_INVALID'));
  });

  it('checks references between sections and impossible values', () => {
    const issues = issuesOf(`
monitor:
  checks:
    - { name: a, type: http, url: "http://h/", interval: 1s, timeout: 2s }
    - { name: a, type: http, url: "http://h/" }
alerting:
  rules:
    - { name: r, kind: checkDown, check: nope, receivers: [missing] }
`);
    const messages = issues.map((i) => `${i.path}: ${i.message}`);
    assert.ok(messages.includes('monitor.checks[0].timeout: timeout must not exceed interval'), messages.join('\n'));
    assert.ok(messages.includes("monitor.checks[1].name: duplicate check name 'a'"));
    assert.ok(messages.includes("alerting.rules[0].check: no check named 'nope' in monitor.checks"));
    assert.ok(messages.includes("alerting.rules[0].receivers[0]: no receiver named 'missing' in alerting.receivers"));
  });

  it('interpolates ${VAR}, ${VAR:-default} and keeps $${ literal', () => {
    const yaml = `
alerting:
  receivers:
    - name: hook
      type: webhook
      url: "http://\${HOOK_HOST}:7002/hook"
      headers: { authorization: "Bearer \${HOOK_TOKEN}", x-literal: "$\${NOT_A_VAR}", x-default: "\${UNSET:-fallback}" }
`;
    const loaded = parseConfig(yaml, 't', { HOOK_HOST: '127.0.0.1', HOOK_TOKEN: 'tok-secret-123' });
    const receiver = loaded.config.alerting.receivers[0] as { url: string; headers: Record<string, string> } | undefined;
    assert.equal(receiver?.url, 'http://127.0.0.1:7002/hook');
    assert.deepEqual(receiver?.headers, { authorization: 'Bearer tok-secret-123', 'x-literal': '${NOT_A_VAR}', 'x-default': 'fallback' });
    assert.deepEqual(loaded.secretValues, ['tok-secret-123'], 'values of secret-looking variables are registered for redaction');
  });

  it('names an unset variable with its path, alongside other problems', () => {
    const issues = issuesOf('gateway:\n  listen: { port: -1 }\nstore:\n  dataDir: "${DATA}"\n');
    assert.deepEqual(
      issues.map((i) => [i.code, i.path, i.line]),
      [
        ['VGL_CONFIG_ENV_UNSET', 'store.dataDir', 4],
        ['VGL_CONFIG_INVALID', 'gateway.listen.port', 2],
      ],
    );
    assert.match(issues[0]?.message ?? '', /DATA is not set/);
  });

  it('rejects a non-mapping document, oversized files and missing files with codes', () => {
    assert.equal(issuesOf('- just\n- a list\n')[0]?.code, 'VGL_CONFIG_INVALID');
    assert.equal(issuesOf(`x: "${'a'.repeat(5 * 1024 * 1024)}"`)[0]?.code, 'VGL_CONFIG_PARSE');
    assert.throws(() => loadConfigFile('/nonexistent/vigil.yaml'), (err: unknown) => err instanceof VigilError && err.code === 'VGL_CONFIG_NOT_FOUND');
  });

  it('resists YAML alias bombs', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 8; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`);
    const started = Date.now();
    const issues = issuesOf(bomb.join('\n'));
    assert.ok(issues.length > 0);
    assert.ok(Date.now() - started < 2000);
  });

  it('the quick-start example is valid as shipped', () => {
    const { config } = loadConfigFile(new URL('../../examples/quickstart.yaml', import.meta.url).pathname);
    assert.equal(config.gateway.routes[0]?.upstream, 'http://127.0.0.1:7001');
    assert.equal(config.alerting.rules[0]?.for, 6000);
  });

  it('reads a file from disk', () => {
    const dir = tempDir();
    const file = join(dir, 'v.yaml');
    writeFileSync(file, 'log: { level: debug }\n');
    assert.equal(loadConfigFile(file).config.log.level, 'debug');
  });
});
