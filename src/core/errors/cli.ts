import type { ErrorSpec } from '../errors.js';

/** Command-line arguments and input files. */
export const CLI_ERRORS = {
  VGL_CLI_USAGE: {
    status: 400,
    cause: 'A command-line argument is missing or malformed.',
    fix: 'See `vigil --help` or `vigil <command> --help`.',
  },
  VGL_FILE_INVALID: {
    status: 400,
    cause: 'A file given on the command line cannot be read, or is not in the expected format.',
    fix: 'Check the path, its permissions and its format (the message names the line).',
  },
} as const satisfies Record<string, ErrorSpec>;
