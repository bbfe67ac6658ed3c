/** Base of every coded error in provgate: callers switch on `code`, never on message text. */
export class BaseError<Code extends string> extends Error {
  readonly code: Code;
  override readonly cause: unknown;

  constructor(code: Code, message: string, cause?: unknown) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.cause = cause;
  }
}
