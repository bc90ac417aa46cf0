import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateConditions, parseCondition, parseJsonPath, valueAt } from '../../src/monitor/conditions.js';
import type { Condition, Facts } from '../../src/monitor/conditions.js';

function parsed(text: string): Condition {
  const result = parseCondition(text);
  assert.equal(typeof result, 'object', `${text}: ${String(result)}`);
  return result as Condition;
}

const verdict = (text: string, facts: Facts) => evaluateConditions([parsed(text)], facts);

describe('conditions', () => {
  it('parses placeholders, JSON paths, operators and literal kinds', () => {
    assert.deepEqual(
      (({ placeholder, path, op, expected }) => ({ placeholder, path, op, expected }))(parsed('[BODY].data.items[2].ok == true')),
      { placeholder: 'BODY', path: ['data', 'items', 2, 'ok'], op: '==', expected: true },
    );
    assert.equal(parsed('[CERTIFICATE_EXPIRATION] > 48h').expected, 48 * 3_600_000);
    assert.equal(parsed('[RESPONSE_TIME] < 500').expected, 500);
    assert.equal(parsed('[BODY] contains "all good"').expected, 'all good');
    assert.equal(parsed('[BODY].status == healthy').expected, 'healthy');
    assert.equal(parsed('[BODY].x == null').expected, null);
  });

  it('rejects malformed conditions with a reason', () => {
    for (const [text, reason] of [
      ['STATUS == 200', /not a condition/],
      ['[STATUS] = 200', /not a condition/],
      ['[NOPE] == 1', /unknown placeholder \[NOPE\]/],
      ['[STATUS] > "abc"', /compares numbers/],
      ['[BODY] matches "("', /not a valid regular expression/],
      ['[BODY] matches "(a+)+$"', /backtrack catastrophically/],
      ['[BODY] == "unterminated', /not a well-formed/],
      ['[BODY] == a b c', /is not a value/],
      [`[BODY] contains "${'x'.repeat(600)}"`, /at most 500/],
    ] as const) {
      const result = parseCondition(text);
      assert.equal(typeof result, 'string', text);
      assert.match(result as string, reason, text);
    }
  });

  it('evaluates numbers, strings, booleans, text search and regexes', () => {
    assert.equal(verdict('[STATUS] == 200', { STATUS: 200 }).ok, true);
    assert.deepEqual(verdict('[STATUS] == 200', { STATUS: 503 }), { ok: false, reason: '[STATUS] == 200 failed (got 503)' });
    assert.equal(verdict('[RESPONSE_TIME] < 500ms', { RESPONSE_TIME: 120 }).ok, true);
    assert.equal(verdict('[RESPONSE_TIME] < 500ms', { RESPONSE_TIME: 800 }).ok, false);
    assert.equal(verdict('[BODY].ok == true', { BODY: '{"ok":true}' }).ok, true);
    assert.equal(verdict('[BODY].count >= 3', { BODY: '{"count":"3"}' }).ok, true);
    assert.equal(verdict('[BODY] contains "ready"', { BODY: 'system ready' }).ok, true);
    assert.equal(verdict('[BODY] !contains "error"', { BODY: 'an error happened' }).ok, false);
    assert.equal(verdict('[BODY] matches "^v[0-9]+"', { BODY: 'v12 running' }).ok, true);
    assert.equal(verdict('[RECORDS] contains "10.0.0.1"', { RECORDS: ['10.0.0.2', '10.0.0.1'] }).ok, true);
  });

  it('says a JSON path is missing (and a non-JSON body has no paths) instead of guessing', () => {
    assert.deepEqual(verdict('[BODY].data.ok == true', { BODY: '{"data":{}}' }), { ok: false, reason: '[BODY].data.ok == true failed ([BODY].data.ok is missing)' });
    assert.equal(verdict('[BODY].a == 1', { BODY: 'not json' }).reason, '[BODY].a == 1 failed ([BODY].a is missing)');
    assert.equal(verdict('[BODY].__proto__ == null', { BODY: '{}' }).ok, false, 'inherited properties are not values');
  });

  it('never quotes a whole body in a failure (it may hold secrets), but quotes a picked value', () => {
    const whole = verdict('[BODY] contains "ok"', { BODY: 'api_secret=sk-secret-123' });
    assert.equal(whole.reason, '[BODY] contains "ok" failed');
    const picked = verdict('[BODY].state == "up"', { BODY: JSON.stringify({ state: 'x'.repeat(200) }) });
    assert.ok((picked.reason ?? '').length < 140, 'quoted values are cut');
  });

  it('parses JSON paths for json-metric and reads values', () => {
    assert.deepEqual(parseJsonPath('data.credits.remaining'), ['data', 'credits', 'remaining']);
    assert.deepEqual(parseJsonPath('items[0].value'), ['items', 0, 'value']);
    assert.match(parseJsonPath('data..x') as string, /not a JSON path/);
    assert.match(parseJsonPath('a b') as string, /not a JSON path/);
    assert.equal(valueAt({ items: [{ value: 7 }] }, ['items', 0, 'value']), 7);
    assert.equal(valueAt({ items: [] }, ['items', 0, 'value']), undefined);
  });
});
