export { createGate } from './gate.ts';
export type { Gate, GateOptions } from './gate.ts';
export { VerificationCache } from './cache.ts';
export type { CacheStats } from './cache.ts';
export { GateError } from './error.ts';
export type { GateErrorCode } from './error.ts';
export { toPolicyInput } from './input.ts';
export { createVerifierPool } from './workers.ts';
export type { VerifierPool } from './workers.ts';
export type { DocumentCheck, DocumentLimits } from './verifydoc.ts';
export type {
  ArtifactDecision,
  ArtifactRequest,
  AttestationOutcome,
  Decision,
  GateRequest,
  PolicyAttestation,
  PolicyEvaluator,
  PolicyInput,
  RequestKind,
} from './gate.types.ts';
