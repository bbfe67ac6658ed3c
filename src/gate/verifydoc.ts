// Verification of one attestation document against one artifact: every
// attestation in it, each to verified facts or its coded error. Pure; runs in
// the gate's thread or in a verification worker.
import type { TrustMaterial } from '../trust/index.ts';
import {
  parseAttestations,
  verifyAttestation,
  VerificationError,
  type Digests,
  type IdentityPolicy,
} from '../verify/index.ts';
import type { AttestationOutcome } from './gate.types.ts';

export interface DocumentLimits {
  jsonDepth: number;
  attestationsPerRequest: number;
  attestationBytes: number;
}

export interface DocumentCheck {
  bytes: Uint8Array;
  digests: Digests;
  identity?: IdentityPolicy;
  /** Milliseconds since the epoch: the request's time. */
  at: number;
  limits: DocumentLimits;
}

export function verifyDocument(check: DocumentCheck, trust: TrustMaterial): AttestationOutcome[] {
  let parsed;
  try {
    parsed = parseAttestations(check.bytes, {
      maxBytes: check.limits.attestationBytes,
      maxDepth: check.limits.jsonDepth,
      maxAttestations: check.limits.attestationsPerRequest,
    });
  } catch (err) {
    return [{ source: '', ok: false, error: errorOf(err) }];
  }
  const now = new Date(check.at);
  return parsed.map((a): AttestationOutcome => {
    const source = parsed.length > 1 ? a.origin : '';
    try {
      return {
        source,
        ok: true,
        attestation: verifyAttestation(a, { digests: check.digests }, trust, {
          now,
          ...(check.identity === undefined ? {} : { identity: check.identity }),
        }),
      };
    } catch (err) {
      return { source, ok: false, error: errorOf(err) };
    }
  });
}

export function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof VerificationError) return { code: err.code, message: err.message };
  return { code: 'VERIFICATION_FAILED', message: err instanceof Error ? err.message : String(err) };
}
