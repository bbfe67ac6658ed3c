/** Where a command writes; the entry point binds it to the process, tests to buffers. */
export interface Io {
  stdout(line: string): void;
  stderr(line: string): void;
}

/** Exit status: 0 verified/ok, 1 verification failed or denied, 2 usage or configuration error. */
export type CommandResult = 0 | 1 | 2;

/** A usage or configuration error: exit 2 with the message (0 for --help). */
export class UsageError extends Error {
  readonly exitCode: 0 | 2;
  constructor(message: string, exitCode: 0 | 2 = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}
