import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { detectPii, ibanValid, luhnValid, maskPii } from '../../src/pii/detectors.js';
import { FieldCipher, PiiTokenizer } from '../../src/pii/tokenize.js';
import { rotateMasterKey } from '../../src/vault/rotate.js';
import { openTestVault } from '../vault/support.js';
import { SAMPLE } from './sample.js';

describe('PII detectors', () => {
  it('precision and recall on the labelled sample', () => {
    let truePositives = 0;
    let falsePositives = 0;
    let falseNegatives = 0;
    const misses: string[] = [];
    for (const { text, pii } of SAMPLE) {
      const found = detectPii(text).map((m) => `${m.kind}:${m.value}`);
      const expected = pii.map(([kind, value]) => `${kind}:${value}`);
      for (const f of found) {
        if (expected.includes(f)) truePositives++;
        else {
          falsePositives++;
          misses.push(`false positive ${f} in "${text}"`);
        }
      }
      for (const e of expected) {
        if (!found.includes(e)) {
          falseNegatives++;
          misses.push(`missed ${e} in "${text}"`);
        }
      }
    }
    const precision = truePositives / (truePositives + falsePositives);
    const recall = truePositives / (truePositives + falseNegatives);
    console.log(`PII sample: ${SAMPLE.length} texts, ${truePositives + falseNegatives} labelled values; precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}`);
    for (const miss of misses) console.log(`  ${miss}`);
    assert.ok(precision >= 0.95, `precision ${precision}`);
    assert.ok(recall >= 0.9, `recall ${recall}`);
  });

  it('validators: Luhn and IBAN mod-97', () => {
    assert.equal(luhnValid('4111111111111111'), true);
    assert.equal(luhnValid('4111111111111112'), false);
    assert.equal(ibanValid('DE89 3704 0044 0532 0130 00'), true);
    assert.equal(ibanValid('DE88 3704 0044 0532 0130 00'), false);
  });

  it('masks for logs, tokenizes deterministically per key, and stays linear on hostile input', () => {
    assert.equal(maskPii('mail a.b@example.com card 4111 1111 1111 1111'), 'mail [EMAIL] card [CARD]');
    const key = randomBytes(32);
    const tokens = new PiiTokenizer(key);
    const one = tokens.tokenize('from Jane@Example.com');
    assert.equal(one, tokens.tokenize('from jane@example.com'), 'equal values give equal tokens');
    assert.match(one, /^from tok_email_[A-Za-z0-9_-]{22}$/);
    assert.notEqual(one, new PiiTokenizer(randomBytes(32)).tokenize('from jane@example.com'), 'tokens depend on the key');
    const started = Date.now();
    detectPii(`${'1 '.repeat(20_000)}${'a@'.repeat(20_000)}${'1.'.repeat(20_000)}`);
    assert.ok(Date.now() - started < 2000, 'no catastrophic backtracking');
  });

  it('field encryption binds the field name and detects tampering', () => {
    const cipher = new FieldCipher(randomBytes(32));
    const sealed = cipher.encrypt('users.email', 'jane@example.com');
    assert.match(sealed, /^enc:v1:/);
    assert.notEqual(sealed, cipher.encrypt('users.email', 'jane@example.com'), 'random nonce');
    assert.equal(cipher.decrypt('users.email', sealed), 'jane@example.com');
    assert.throws(() => cipher.decrypt('users.phone', sealed), (err: { code?: string }) => err.code === 'VGL_VAULT_DECRYPT_FAILED');
    assert.throws(() => cipher.decrypt('users.email', `${sealed.slice(0, -2)}AA`), (err: { code?: string }) => err.code === 'VGL_VAULT_DECRYPT_FAILED');
    assert.throws(() => cipher.decrypt('users.email', 'plain'), (err: { code?: string }) => err.code === 'VGL_VAULT_DECRYPT_FAILED');
  });
});

describe('PII keys from the vault', () => {
  it('tokens and field ciphertexts survive a reopen and a master key rotation, and differ between vaults', async () => {
    const first = await openTestVault();
    const { tokenizer, fields } = await first.pii();
    const token = tokenizer.token('email', 'jane@example.com');
    const sealed = fields.encrypt('users.email', 'jane@example.com');
    await rotateMasterKey(first.vault, { batchSize: 10, pauseMs: 0 });
    const reopened = await openTestVault({ dataDir: first.dataDir });
    const again = await reopened.pii();
    assert.equal(again.tokenizer.token('email', 'JANE@example.com'), token);
    assert.equal(again.fields.decrypt('users.email', sealed), 'jane@example.com');
    const other = await (await openTestVault()).pii();
    assert.notEqual(other.tokenizer.token('email', 'jane@example.com'), token);
    assert.deepEqual((await reopened.secrets.list()).map((s) => s.name), [], 'internal keys are not listed as secrets');
  });
});
