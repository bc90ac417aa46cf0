import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runVigil } from '../support/cli.js';
import { tempDir } from '../support/helpers.js';

describe('vigil config check (monitor checks)', () => {
  it('lists every bad check with its YAML path and line', () => {
    const file = join(tempDir(), 'vigil.yaml');
    writeFileSync(
      file,
      [
        'monitor:',
        '  checks:',
        '    - name: mail',
        '      type: smtp',
        '    - name: api',
        '      type: http',
        '      url: "http://127.0.0.1:8080/"',
        '      conditions: ["[STAUS] == 200", "[BODY] matches \\"(a+)+$\\""]',
        '    - name: cert',
        '      type: tls',
        '      host: "not a host"',
        '      warning: 1d',
        '      critical: 10d',
        '',
      ].join('\n'),
    );
    const result = runVigil(['config', 'check', '--config', file]);
    const output = result.stdout + result.stderr;
    assert.equal(result.status, 1, output);
    assert.match(output, /monitor\.checks\[0\]\.type \(line 4\): unknown check type/);
    assert.match(output, /monitor\.checks\[1\]\.conditions\[0\] \(line 8\): unknown placeholder \[STAUS\]/);
    assert.match(output, /monitor\.checks\[1\]\.conditions\[1\] \(line 8\): .*backtrack catastrophically/);
    assert.match(output, /monitor\.checks\[2\]\.host \(line 11\): must be a host name or an IP address/);
    assert.match(output, /monitor\.checks\[2\]\.critical \(line 13\): critical must not exceed warning/);
  });
});
