// Media types of the OCI image and distribution specs, Docker's schema 2, and
// the attestation formats discovery picks out of a registry.

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** The empty descriptor's type: an artifact manifest's config when it has none. */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

/** What a manifest GET accepts: both specs, indexes first (the kubelet resolves to the index). */
export const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST];

export const INDEX_TYPES: ReadonlySet<string> = new Set([OCI_INDEX, DOCKER_MANIFEST_LIST]);
export const IMAGE_MANIFEST_TYPES: ReadonlySet<string> = new Set([OCI_MANIFEST, DOCKER_MANIFEST]);

/** https://github.com/sigstore/protobuf-specs: every bundle media type, old and new spelling. */
export const SIGSTORE_BUNDLE_TYPES = [
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
];
export const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';
export const IN_TOTO = 'application/vnd.in-toto+json';

/** Referrer artifact types discovery looks at by default. */
export const DEFAULT_ARTIFACT_TYPES = [...SIGSTORE_BUNDLE_TYPES, DSSE_ENVELOPE, IN_TOTO];

/**
 * Layer media types whose content provgate's verifier reads: bundles and DSSE
 * envelopes. An `application/vnd.in-toto+json` layer is an unsigned statement
 * (Docker build attestations): nothing to verify, so it is never fetched.
 */
export const ATTESTATION_LAYER_TYPES: ReadonlySet<string> = new Set([
  ...SIGSTORE_BUNDLE_TYPES,
  DSSE_ENVELOPE,
]);

/** Types a registry sends when it does not say what the body is. */
export const UNSPECIFIED_TYPES: ReadonlySet<string> = new Set([
  '',
  'application/json',
  'application/octet-stream',
  'text/plain',
]);

/**
 * Lower-cases and drops whitespace, so `application/vnd.dev.sigstore.bundle+json; version=0.3`
 * compares equal to the canonical spelling. Parameters other than `version`
 * (a `charset` a server adds) are dropped: only `version` tells bundles apart.
 */
export function normalizeMediaType(value: string): string {
  const [type = '', ...params] = value.toLowerCase().split(';');
  const kept = params.map((p) => p.replace(/\s+/g, '')).filter((p) => p.startsWith('version='));
  return [type.trim(), ...kept].join(';');
}
