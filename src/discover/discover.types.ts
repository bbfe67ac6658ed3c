import type { Digests } from '../verify/index.ts';

/** What is being admitted: an image, a package, a file. */
export interface ArtifactRef {
  /** Image repository (`ghcr.io/o/r`), package URL (`pkg:npm/x@1.0.0`) or file name. */
  name: string;
  version?: string;
  /** Full reference as requested, e.g. `ghcr.io/o/r:v1` or `ghcr.io/o/r@sha256:...`. */
  uri?: string;
  digests: Digests;
}

/** One attestation document as found: bytes are parsed and verified later, never trusted here. */
export interface DiscoveredAttestation {
  /** Where it came from, for reasons and logs: `inline[0]`, `store:sha256-…/x.json`, `ghcr.io referrer sha256:…`. */
  source: string;
  bytes: Uint8Array;
}

/**
 * Where attestations come from. Implementations do I/O; they throw a
 * DiscoveryError with a code that names the cause (unreachable registry,
 * rate limit, oversized response) and honour the abort signal (the deadline).
 */
export interface AttestationDiscovery {
  readonly name: string;
  discover(artifact: ArtifactRef, signal: AbortSignal): Promise<DiscoveredAttestation[]>;
}
