import type { ErrorSpec } from '../errors.js';

/** Reading and checking the configuration file. */
export const CONFIG_ERRORS = {
  VGL_CONFIG_INVALID: {
    status: 500,
    cause: 'The configuration file failed validation (wrong type, unknown key, impossible value).',
    fix: 'Run `vigil config check --config FILE`; every problem is listed with its YAML path and line.',
  },
  VGL_CONFIG_PARSE: {
    status: 500,
    cause: 'The configuration file is not well-formed YAML.',
    fix: 'Fix the YAML syntax at the reported line and column.',
  },
  VGL_CONFIG_ENV_UNSET: {
    status: 500,
    cause: 'The configuration refers to an environment variable with `${NAME}` that is not set.',
    fix: 'Set the variable, give a default with `${NAME:-default}`, or write `$${` for a literal `${`.',
  },
  VGL_CONFIG_NOT_FOUND: {
    status: 500,
    cause: 'The configuration file named on the command line cannot be read.',
    fix: 'Check the path and its permissions.',
  },
  VGL_CONFIG_ENV_PLACEHOLDER: {
    status: 500,
    cause: 'An environment variable the configuration uses holds a placeholder (`changeme`, `YOUR_..._HERE`, `<...>`, `xxxx`), not a real value.',
    fix: 'Set the variable to the real value; `vigil env check --template .env.example` checks them all.',
  },
  VGL_CONFIG_SECRET_UNSET: {
    status: 500,
    cause: 'The configuration refers to a vault secret with `${secret:NAME}` that does not exist.',
    fix: 'Create it with `vigil secrets set NAME` (value on stdin), or correct the name.',
  },
} as const satisfies Record<string, ErrorSpec>;
