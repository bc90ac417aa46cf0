import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/helpers.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function setup() {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const config = join(dir, 'vigil.yaml');
  writeFileSync(config, `store: { dataDir: "${dataDir}" }\n`);
  const vigil = (args: string[], input?: string) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args, '--config', config], { encoding: 'utf8', input: input ?? '', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return { dir, dataDir, vigil };
}

describe('vigil secrets: bad input', () => {
  it('never takes a value from argv, and answers bad input with coded errors', () => {
    const { dir, vigil } = setup();
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
