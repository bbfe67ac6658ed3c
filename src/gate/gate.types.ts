import type { ArtifactRef, DiscoveredAttestation } from '../discover/index.ts';
import type { IdentityPolicy, VerifiedAttestation } from '../verify/index.ts';

export type RequestKind = 'cli' | 'admit' | 'upload' | 'kubernetes';

/** One artifact to decide on, with the attestations the request carried. */
export interface ArtifactRequest {
  artifact: ArtifactRef;
  /** Attestation documents sent with the request. */
  attestations: DiscoveredAttestation[];
  /** Also ask the configured discovery (local store, registry) for attestations. */
  discover: boolean;
}

/** What every edge (HTTP endpoints, CLI) turns its request into. */
export interface GateRequest {
  kind: RequestKind;
  artifacts: ArtifactRequest[];
  /** Free-form facts the policy may use: namespace, operation, user, image reference. */
  context: Record<string, unknown>;
  /** Overrides the configured deadline, in milliseconds from now. */
  deadlineMs?: number;
  /**
   * Signer identity every attestation must have (the CLI's --cert-identity,
   * --owner...): checked by verification, so a mismatch is a coded failure.
   */
  identity?: IdentityPolicy;
}

/** The outcome of verifying one attestation: verified facts, or the coded reason it failed. */
export type AttestationOutcome =
  | { source: string; ok: true; attestation: VerifiedAttestation }
  | { source: string; ok: false; error: { code: string; message: string } };

/** The policy input for one artifact (documented by policies/input.schema.json). */
export interface PolicyInput {
  request: { kind: RequestKind; time: string; context: Record<string, unknown> };
  artifact: ArtifactRef;
  attestations: PolicyAttestation[];
}

export type PolicyAttestation =
  | ({
      source: string;
      verified: true;
      predicateType?: string;
      subject: VerifiedAttestation['matchedSubject'];
    } & Omit<VerifiedAttestation, 'matchedSubject'>)
  | { source: string; verified: false; error: { code: string; message: string } };

export interface ArtifactDecision {
  artifact: ArtifactRef;
  allowed: boolean;
  reasons: string[];
  warnings: string[];
  /** The policy revision this artifact was decided under. */
  policyRevision?: string;
  attestations: {
    source: string;
    verified: boolean;
    predicateType?: string;
    error?: { code: string; message: string };
  }[];
}

export interface Decision {
  decisionId: string;
  allowed: boolean;
  /** Why it was denied (empty when allowed), each prefixed by the artifact when there are several. */
  reasons: string[];
  warnings: string[];
  artifacts: ArtifactDecision[];
  policyRevision: string;
  trustRevision: string;
  /** Milliseconds spent per stage. */
  timings: { discoverMs: number; verifyMs: number; evaluateMs: number; totalMs: number };
  /** The inputs evaluated, one per artifact, for the decision log. */
  inputs: PolicyInput[];
}

/** The policy engine as the gate sees it. */
export interface PolicyEvaluator {
  readonly revision: string;
  /** Never throws for a policy failure (that is a denial); `revision` is the bundle that decided. */
  evaluate(
    input: PolicyInput,
    options: { nowNs: bigint },
  ): { allow: boolean; deny: readonly string[]; warn: readonly string[]; revision?: string };
}
