// Coded errors for the verification core. One code per distinct cause, so that a
// denial can say exactly what went wrong ("no transparency-log proof" is not
// "bad signature"). Callers switch on `code`, never on message text.

import { BaseError } from '../error.ts';

export type VerificationErrorCode =
  // input decoding
  | 'INPUT_TOO_LARGE'
  | 'MALFORMED_JSON'
  | 'NESTING_TOO_DEEP'
  | 'BAD_BASE64'
  | 'MALFORMED_BUNDLE'
  | 'UNKNOWN_BUNDLE_VERSION'
  | 'MALFORMED_ENVELOPE'
  | 'MALFORMED_CERTIFICATE'
  | 'NO_ATTESTATION'
  | 'TOO_MANY_ATTESTATIONS'
  // the artifact
  | 'INVALID_DIGEST'
  | 'ARTIFACT_DIGEST_MISMATCH'
  | 'SUBJECT_DIGEST_MISMATCH'
  | 'ARTIFACT_BYTES_REQUIRED'
  // keys and certificates
  | 'UNTRUSTED_CA'
  | 'CERTIFICATE_NOT_VALID_AT_SIGNING_TIME'
  | 'CA_NOT_VALID_AT_SIGNING_TIME'
  | 'CERTIFICATE_INVALID'
  | 'SCT_MISSING'
  | 'SCT_INVALID'
  | 'KEY_NOT_FOUND'
  | 'KEY_REQUIRED'
  | 'KEY_NOT_VALID_AT_SIGNING_TIME'
  | 'UNSUPPORTED_ALGORITHM'
  // signatures
  | 'SIGNATURE_INVALID'
  // transparency log and timestamps
  | 'TLOG_MISSING'
  | 'TLOG_PROOF_MISSING'
  | 'TLOG_UNKNOWN_LOG'
  | 'TLOG_LOG_NOT_VALID_AT_TIME'
  | 'TLOG_INCLUSION_PROOF_INVALID'
  | 'TLOG_CHECKPOINT_INVALID'
  | 'TLOG_CHECKPOINT_MISMATCH'
  | 'TLOG_SET_INVALID'
  | 'TLOG_ENTRY_MISMATCH'
  | 'TLOG_ENTRY_UNSUPPORTED'
  | 'TLOG_BODY_MALFORMED'
  | 'TIMESTAMP_INVALID'
  | 'TIMESTAMP_UNTRUSTED'
  | 'NO_VERIFIED_TIME'
  // statement and identity
  | 'PAYLOAD_TYPE_UNSUPPORTED'
  | 'STATEMENT_INVALID'
  | 'PROVENANCE_INVALID'
  | 'IDENTITY_MISMATCH'
  | 'ISSUER_MISMATCH'
  | 'CLAIM_MISMATCH'
  | 'INVALID_MATCHER'
  // trust material
  | 'TRUST_MATERIAL_INVALID';

export { BaseError };

/** The attestation is malformed or cryptographically invalid. */
export class VerificationError extends BaseError<VerificationErrorCode> {}

export function isVerificationError(err: unknown): err is VerificationError {
  return err instanceof VerificationError;
}
