import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { GENERATED } from '../scripts/docs.js';

for (const [file, make] of Object.entries(GENERATED)) {
  it(`${file} matches what the code says (run \`npm run docs\` after changing the schema or the error catalogue)`, () => {
    assert.equal(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8'), make());
  });
}
