import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cliWorkspace } from '../support/cli.js';

const CANARY = 'canary-cli-secret-31f9-NEVER-PRINT';


describe('vigil secrets', () => {
  it('sets from stdin and --file, hides values unless --reveal, rolls back, deletes', () => {
    const { dir, dataDir, vigil } = cliWorkspace();
    const set = vigil(['secrets', 'set', 'OPENAI_KEY'], `${CANARY}\n`);
    assert.equal(set.status, 0, set.stderr);
    assert.match(set.stdout, /OPENAI_KEY v1 stored/);
    const file = join(dir, 'value.txt');
    writeFileSync(file, 'second-value');
    assert.equal(vigil(['secrets', 'set', 'OPENAI_KEY', '--file', file]).status, 0);

    const hidden = vigil(['secrets', 'get', 'OPENAI_KEY']);
    assert.equal(hidden.status, 0);
    assert.match(hidden.stdout, /OPENAI_KEY v2 created .* \(value hidden; add --reveal to print it\)/);
    assert.ok(!hidden.stdout.includes('second-value'));
    assert.equal(vigil(['secrets', 'get', 'OPENAI_KEY', '--reveal']).stdout, 'second-value');
    assert.equal(vigil(['secrets', 'get', 'OPENAI_KEY', '--reveal', '--at', '1']).stdout, CANARY, 'one trailing newline dropped');

    assert.match(vigil(['secrets', 'rollback', 'OPENAI_KEY', '--to', '1']).stdout, /OPENAI_KEY v3 stored \(value of v1\)/);
    assert.equal(vigil(['secrets', 'delete', 'OPENAI_KEY']).status, 0);
    const gone = vigil(['secrets', 'delete', 'OPENAI_KEY']);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /error VGL_SECRET_NOT_FOUND: no secret named 'OPENAI_KEY'/);
    assert.equal(statSync(join(dataDir, 'master.key')).mode & 0o777, 0o600);
  });
});
