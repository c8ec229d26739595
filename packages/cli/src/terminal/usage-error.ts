// A mistake on the command line or in a file it names: reported in one line, exit code 2.
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE_EXIT_CODE = 2;
