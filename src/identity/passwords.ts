import { hash, verify } from '@node-rs/argon2';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as zxcvbnCommon from '@zxcvbn-ts/language-common';
import * as zxcvbnEn from '@zxcvbn-ts/language-en';
import { VigilError } from '../core/errors.js';

/** `Algorithm.Argon2id` of @node-rs/argon2, whose const enum cannot be imported under verbatimModuleSyntax. */
const ARGON2ID = 2;

/**
 * argon2id parameters: 19 MiB memory, 2 iterations, 1 lane — the minimum OWASP and ASVS v5
 * (Appendix C, 11.4.2) accept for argon2id, chosen so that a login costs tens of milliseconds on
 * a small machine. Stored as PHC strings, so raising them later re-hashes on the next login.
 */
export const ARGON2_PARAMS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1, outputLen: 32 } as const;

/** NIST SP 800-63B and ASVS allow at least 64; 128 bounds the hashing work an attacker can ask for. */
export const MAX_PASSWORD_LENGTH = 128;

export interface PasswordPolicy {
  minLength: number;
  /** Lowest acceptable zxcvbn score, 0-4. */
  minScore: number;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

/** False for a wrong password and for a stored value that is not an argon2 hash; never throws on bad input. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** A real argon2id hash of a random value, verified against for unknown users so that they cost the same time. */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(`decoy-${process.hrtime.bigint()}-${Math.random()}`);
  return decoyHash;
}

let strength: ZxcvbnFactory | undefined;
function strengthChecker(): ZxcvbnFactory {
  // Loading the dictionaries takes about half a second; done once, on first use.
  strength ??= new ZxcvbnFactory({
    dictionary: { ...zxcvbnCommon.dictionary, ...zxcvbnEn.dictionary },
    graphs: zxcvbnCommon.adjacencyGraphs,
    translations: zxcvbnEn.translations,
  });
  return strength;
}

/**
 * Throws VGL_PASSWORD_WEAK unless the password meets the policy: length in characters (code
 * points, so any script counts fairly), and not common or guessable — also not built from the
 * username. The password itself never appears in the message.
 */
export async function checkPasswordPolicy(password: string, policy: PasswordPolicy, userInputs: readonly string[] = []): Promise<void> {
  const length = [...password].length;
  if (length < policy.minLength) throw new VigilError('VGL_PASSWORD_WEAK', `the password must be at least ${policy.minLength} characters`);
  if (length > MAX_PASSWORD_LENGTH) throw new VigilError('VGL_PASSWORD_WEAK', `the password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  const result = await strengthChecker().check(password, [...userInputs]);
  if (result.score < policy.minScore) {
    const hint = result.feedback.warning ?? 'it is too easy to guess';
    throw new VigilError('VGL_PASSWORD_WEAK', `the password is too easy to guess (strength ${result.score} of 4, ${policy.minScore} needed): ${hint}`);
  }
}
