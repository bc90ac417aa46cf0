import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.js';

/** Every problem in a YAML config, as `path: message`. */
function problems(yaml: string): string[] {
  try {
    parseConfig(yaml, 'vigil.yaml', {});
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues.map((i) => `${i.path}:${i.line ?? '?'}: ${i.message} [${i.code}]`);
  }
  return [];
}

describe('check config', () => {
  it('accepts every check type with its defaults', () => {
    const { config } = parseConfig(
      `
monitor:
  checks:
    - { name: web, type: http, url: "http://127.0.0.1:1/", conditions: ["[STATUS] == 200", "[BODY].ok == true"] }
    - { name: credits, type: json-metric, url: "http://127.0.0.1:1/", path: data.credits, conditions: ["[VALUE] > 10"] }
    - { name: port, type: tcp, host: 127.0.0.1, port: 5432 }
    - { name: cert, type: tls, host: example.com }
    - { name: name, type: dns, query: example.com }
    - { name: job, type: command, command: "true" }
    - { name: db, type: postgres, url: "postgres://127.0.0.1/test", deep: true }
    - { name: cache, type: redis, url: "redis://127.0.0.1:6379" }
    - { name: disk, type: disk, path: / }
    - { name: fs, type: filesystem, directory: /tmp }
    - { name: proc, type: process, processName: node }
    - { name: cron, type: heartbeat, token: "0123456789abcdef", grace: 10m }
`,
      'vigil.yaml',
      {},
    );
    const tls = config.monitor.checks.find((c) => c.type === 'tls');
    assert.ok(tls && tls.type === 'tls');
    assert.deepEqual([tls.port, tls.warning, tls.critical], [443, 30 * 86_400_000, 7 * 86_400_000]);
  });

  it('reports an unknown check type with the YAML path and line', () => {
    const found = problems('monitor:\n  checks:\n    - name: x\n      type: smtp\n');
    assert.equal(found.length, 1);
    assert.match(found[0] ?? '', /^monitor\.checks\[0\]\.type:4: unknown check type: use one of http, json-metric, tcp/);
  });

  it('reports invalid URLs, hosts, ports and conditions, each at its path, all at once', () => {
    const found = problems(`
monitor:
  checks:
    - { name: a, type: http, url: "ftp://x/" }
    - { name: b, type: tcp, host: "bad host!", port: 70000 }
    - { name: c, type: http, url: "http://x/", conditions: ["[STATUS] = 200", "[VALUE] > 3"] }
    - { name: d, type: postgres, url: "mysql://x/" }
    - { name: e, type: redis, url: "not a url" }
    - { name: f, type: json-metric, url: "http://x/", path: "a..b" }
    - { name: g, type: http, url: "http://x/", headers: { "bad header": "v", ok: "line\\nbreak" } }
`);
    const paths = found.map((f) => f.split(':')[0]);
    for (const path of [
      'monitor.checks[0].url',
      'monitor.checks[1].host',
      'monitor.checks[1].port',
      'monitor.checks[2].conditions[0]',
      'monitor.checks[2].conditions[1]',
      'monitor.checks[3].url',
      'monitor.checks[4].url',
      'monitor.checks[5].path',
      'monitor.checks[6].headers.ok',
    ]) {
      assert.ok(paths.includes(path), `${path} in ${found.join('\n')}`);
    }
    assert.ok(found.some((f) => f.includes('[VALUE] is not available here')), found.join('\n'));
    assert.ok(found.every((f) => f.endsWith('[VGL_CONFIG_INVALID]')));
  });

  it('rejects impossible thresholds', () => {
    const found = problems(`
monitor:
  checks:
    - { name: a, type: tls, host: example.com, warning: 7d, critical: 30d }
    - { name: b, type: disk, path: /, minFreePercent: 150 }
    - { name: c, type: process }
    - { name: d, type: process, pidFile: /run/x.pid, processName: x }
    - { name: e, type: http, url: "http://x/", interval: 1s, timeout: 5s }
    - { name: f, type: heartbeat, token: short, grace: 1m }
    - { name: g, type: command, command: "x", maxOutput: 10 }
    - { name: h, type: tls, host: example.com, caFile: /nonexistent/ca.pem }
`);
    const text = found.join('\n');
    assert.match(text, /monitor\.checks\[0\]\.critical:\d+: critical must not exceed warning/);
    assert.match(text, /monitor\.checks\[1\]\.minFreePercent/);
    assert.match(text, /monitor\.checks\[2\]\.pidFile:\d+: set exactly one of pidFile and processName/);
    assert.match(text, /monitor\.checks\[3\]\.pidFile:\d+: set exactly one/);
    assert.match(text, /monitor\.checks\[4\]\.timeout:\d+: timeout must not exceed interval/);
    assert.match(text, /monitor\.checks\[5\]\.token:\d+: must be at least 16 characters/);
    assert.match(text, /monitor\.checks\[6\]\.maxOutput/);
    assert.match(text, /monitor\.checks\[7\]\.caFile:\d+: file cannot be read/);
  });
});
