import type { ErrorSpec } from '../errors.js';

/** The vault: master key and secrets. */
export const VAULT_ERRORS = {
  VGL_VAULT_MASTER_KEY_INVALID: {
    status: 500,
    cause: 'The master key in VIGIL_MASTER_KEY (or VIGIL_MASTER_KEY_NEXT) or in the key file is not 32 bytes as 64 hex or 44 base64 characters.',
    fix: 'Generate one with `openssl rand -base64 32`, or remove it and let Vigil generate the key file on first start.',
  },
  VGL_VAULT_MASTER_KEY_WRONG: {
    status: 500,
    cause: 'The stored secrets are wrapped by a master key other than the one given; nothing was read or changed.',
    fix: 'Start with the master key this data directory was created with (the error names the key IDs expected and given).',
  },
  VGL_VAULT_MASTER_KEY_MISSING: {
    status: 500,
    cause: 'The data directory holds encrypted secrets but no master key was found (no VIGIL_MASTER_KEY, no key file).',
    fix: 'Restore the master key file from backup or set VIGIL_MASTER_KEY; Vigil never generates a new key over existing secrets.',
  },
  VGL_VAULT_DECRYPT_FAILED: {
    status: 500,
    cause: 'A stored ciphertext did not authenticate: it was modified, or moved to another secret name or version.',
    fix: 'Restore the secret from backup or set it again; the failure is logged without the value.',
  },
  VGL_SECRET_NOT_FOUND: {
    status: 404,
    cause: 'No secret (or no such version of it) has the given name.',
    fix: 'List secrets with `vigil secrets list` and versions with `vigil secrets versions NAME`.',
  },
  VGL_SECRET_INVALID: {
    status: 400,
    cause: 'A secret name or value is malformed: bad characters, empty, too large, or a reserved `vigil.` name.',
    fix: 'Names are 1-128 characters of A-Z a-z 0-9 _ . - starting with a letter or digit; values 1 byte to 64 KiB.',
  },
} as const satisfies Record<string, ErrorSpec>;
