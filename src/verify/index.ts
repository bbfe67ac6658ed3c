// The verification core: pure (no fs, no network, no clock of its own).
export {
  parseAttestations,
  decodeBundle,
  decodeEnvelope,
  BUNDLE_MEDIA_TYPES,
  DEFAULT_PARSE_LIMITS,
} from './bundle.ts';
export type { Bundle, Envelope, ParsedAttestation, ParseLimits } from './bundle.ts';
export { verifyAttestation, IN_TOTO_PAYLOAD_TYPE } from './verifier.ts';
export type { VerifyOptions } from './verifier.ts';
export { VerificationError, isVerificationError } from './error.ts';
export type { VerificationErrorCode } from './error.ts';
export { parseDigest } from './digest.ts';
export type {
  Artifact,
  ClaimName,
  DigestAlgorithm,
  Digests,
  Disagreement,
  FulcioClaims,
  IdentityPolicy,
  InTotoStatement,
  InTotoSubject,
  Matcher,
  NormalizedProvenance,
  Signer,
  SignedContent,
  TimestampFact,
  TlogFact,
  VerifiedAttestation,
} from './verify.types.ts';
