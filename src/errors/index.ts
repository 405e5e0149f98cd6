/**
 * Typed errors with stable codes. A `TgError` is a user-facing failure: the CLI prints its message on one
 * line (no stack unless --debug) and exits with `exitCode`; the HTTP API maps it to a 4xx with the code.
 */
export const ERROR_CODES = {
  USAGE: 'Bad command line: unknown command, missing argument or bad flag value',
  CONFIG_INVALID: 'A config value failed validation',
  CONFIG_UNREADABLE: 'The config file could not be read or parsed',
  NOT_FOUND: 'A named thing (robot, episode, dataset, benchmark) does not exist',
  INPUT_INVALID: 'An input file or body is malformed',
  MODEL_INVALID: 'A robot or scene model failed to load or compile',
  SIM_DIVERGED: 'The physics simulation produced NaN/Inf or became unstable',
  STORAGE_FAILED: 'Reading or writing the catalog or dataset files failed',
  INTERRUPTED: 'The operation was interrupted by the user',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class TgError extends Error {
  readonly code: ErrorCode;
  /** Process exit status the CLI uses for this error (2 = usage, 1 = everything else). */
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TgError';
    this.code = code;
    this.exitCode = code === 'USAGE' ? 2 : code === 'INTERRUPTED' ? 130 : 1;
  }
}

export function isTgError(err: unknown): err is TgError {
  return err instanceof TgError;
}
