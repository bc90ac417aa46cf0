import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigilError } from '../../src/core/errors.js';
import { ARGON2_PARAMS, checkPasswordPolicy, hashPassword, verifyPassword } from '../../src/identity/passwords.js';

const policy = { minLength: 12, minScore: 3 };

async function rejection(password: string, inputs: string[] = []): Promise<string> {
  try {
    await checkPasswordPolicy(password, policy, inputs);
  } catch (err) {
    assert.ok(isVigilError(err));
    assert.equal(err.code, 'VGL_PASSWORD_WEAK');
    assert.ok(!err.message.includes(password), 'the message never repeats the password');
    return err.message;
  }
  return 'accepted';
}

describe('passwords', () => {
  it('hashes with argon2id at or above the ASVS minimum and verifies', async () => {
    assert.ok(ARGON2_PARAMS.memoryCost >= 19_456 && ARGON2_PARAMS.timeCost >= 2);
    const stored = await hashPassword('violet-harbour-quantum-7-lantern');
    assert.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await verifyPassword(stored, 'violet-harbour-quantum-7-lantern'), true);
    assert.equal(await verifyPassword(stored, 'violet-harbour-quantum-7-lanterN'), false);
    assert.equal(await verifyPassword('not-a-hash', 'anything'), false);
  });

  it('enforces length in characters, 12 to 128', async () => {
    assert.match(await rejection('short-pw'), /at least 12/);
    assert.match(await rejection('q'.repeat(129)), /at most 128/);
    assert.equal(await rejection('🦊🌲🚀🎻🧊🌋🪐🦉🍄🎲🧭🪁'), 'accepted', 'twelve emoji are twelve characters');
  });

  it('rejects common, guessable and username-based passwords, accepts a passphrase', async () => {
    for (const weak of ['password1234', 'qwertyuiop123', '123456789012', 'aaaaaaaaaaaa']) assert.match(await rejection(weak), /too easy to guess/, weak);
    assert.match(await rejection('maximilian2026', ['maximilian']), /too easy to guess/);
    assert.equal(await rejection('violet-harbour-quantum-7-lantern'), 'accepted');
  });
});
