// The policy input: what the request asked, the artifact, and every
// attestation's verification outcome. A statement reaches the policy only
// inside a verified outcome; a failed one carries nothing but its coded error.
import type { ArtifactRef } from '../discover/index.ts';
import type {
  AttestationOutcome,
  GateRequest,
  PolicyAttestation,
  PolicyInput,
} from './gate.types.ts';

export function toPolicyInput(
  request: Pick<GateRequest, 'kind' | 'context'>,
  artifact: ArtifactRef,
  outcomes: AttestationOutcome[],
  time: Date,
): PolicyInput {
  return {
    request: { kind: request.kind, time: time.toISOString(), context: request.context },
    artifact,
    attestations: outcomes.map((o): PolicyAttestation => {
      if (!o.ok) return { source: o.source, verified: false, error: o.error };
      const { matchedSubject, ...facts } = o.attestation;
      return {
        source: o.source,
        verified: true,
        ...(facts.statement === undefined ? {} : { predicateType: facts.statement.predicateType }),
        subject: matchedSubject,
        ...facts,
      };
    }),
  };
}
