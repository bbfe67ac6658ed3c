// Coded errors for the policy engine. A bundle that cannot be trusted or run is
// refused at load time with one of these codes; evaluation never throws them at
// a caller of `evaluate` (a failed evaluation is a denial, see decision.ts).

import { BaseError } from '../error.ts';

export type PolicyErrorCode =
  // reading the bundle (archive or directory)
  | 'BUNDLE_TOO_LARGE'
  | 'BUNDLE_TOO_MANY_ENTRIES'
  | 'BUNDLE_FILE_TOO_LARGE'
  | 'BUNDLE_ARCHIVE_INVALID'
  | 'BUNDLE_PATH_INVALID'
  | 'BUNDLE_ENTRY_TYPE'
  | 'BUNDLE_DUPLICATE_ENTRY'
  | 'BUNDLE_UNEXPECTED_FILE'
  | 'BUNDLE_READ_FAILED'
  // bundle contents
  | 'BUNDLE_WASM_MISSING'
  | 'BUNDLE_WASM_INVALID'
  | 'BUNDLE_DATA_INVALID'
  | 'MANIFEST_MISSING'
  | 'MANIFEST_INVALID'
  | 'ENTRYPOINT_MISSING'
  | 'BUILTIN_UNSUPPORTED'
  | 'PARAMS_INVALID'
  // signatures (.signatures.json)
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_MALFORMED'
  | 'SIGNATURE_KEY_UNKNOWN'
  | 'SIGNATURE_KEY_NOT_CONFIGURED'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_SCOPE_MISMATCH'
  | 'SIGNATURE_FILE_UNLISTED'
  | 'SIGNATURE_FILE_MISSING'
  | 'SIGNATURE_FILE_DIGEST_MISMATCH'
  | 'SIGNATURE_HASH_UNSUPPORTED'
  // running it
  | 'INSTANCE_FAILED'
  | 'SMOKE_TEST_FAILED'
  | 'INPUT_INVALID';

/** A policy bundle could not be loaded, verified or activated. */
export class PolicyError extends BaseError<PolicyErrorCode> {}

export function isPolicyError(err: unknown): err is PolicyError {
  return err instanceof PolicyError;
}

/** A short, single-line description of anything thrown (wasm aborts throw bare strings). */
export function describeThrown(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  if (typeof err === 'object' && err !== null && 'message' in err) {
    const { message } = err;
    if (typeof message === 'string') return message;
  }
  return String(err);
}
