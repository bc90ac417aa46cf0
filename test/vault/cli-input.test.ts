import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cliWorkspace } from '../support/cli.js';



describe('vigil secrets: bad input', () => {
  it('never takes a value from argv, and answers bad input with coded errors', () => {
    const { dir, vigil } = cliWorkspace();
    const extra = vigil(['secrets', 'set', 'NAME', 'the-value-on-argv']);
    assert.equal(extra.status, 2, 'an extra argument is a usage error');
    assert.match(extra.stderr, /too many arguments/);
    const cases: [string[], string, RegExp][] = [
      [['secrets', 'set', 'bad name'], 'v', /VGL_SECRET_INVALID/],
      [['secrets', 'set', 'EMPTY'], '', /VGL_SECRET_INVALID: the value is empty/],
      [['secrets', 'set', 'F', '--file', join(dir, 'absent')], '', /VGL_FILE_INVALID: cannot read .*absent: ENOENT/],
      [['secrets', 'rotate-master', '--pause', 'soon'], '', /VGL_CLI_USAGE/],
    ];
    for (const [args, input, expected] of cases) {
      const r = vigil(args, input);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, expected);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    assert.deepEqual(JSON.parse(vigil(['secrets', 'list', '--json']).stdout), [], 'nothing was stored');
  });
});
