// Errors that reach the user as one line on stderr. exitCode follows the CLI contract:
// 2 = bad usage or bad input (nothing was changed), 1 = the operation failed on the host.

export class PassthruError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad usage or bad input: refused before any work was done. */
export class InputError extends PassthruError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** A one-line rendering of any thrown value, for stderr. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
