// Types shared by the verification core. Everything here is plain data that can
// be logged or handed to the policy engine as JSON.

/** Lower-case hex digests of the artifact, by algorithm. At least one is present. */
export interface Digests {
  sha256?: string;
  sha512?: string;
}

export type DigestAlgorithm = keyof Digests;

/**
 * The artifact an attestation is checked against: its bytes (a file) or only its
 * digest (admission requests usually carry nothing else).
 */
export interface Artifact {
  digests: Digests;
  /** Present when the artifact's bytes are at hand; needed only for Ed25519 message signatures. */
  bytes?: Uint8Array;
}

/** Exact string or an anchored regular expression (never a substring match). */
export type Matcher = { exact: string } | { regex: string };

/** Every Fulcio certificate extension claim, by name (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md). */
export interface FulcioClaims {
  issuer?: string;
  githubWorkflowTrigger?: string;
  githubWorkflowSha?: string;
  githubWorkflowName?: string;
  githubWorkflowRepository?: string;
  githubWorkflowRef?: string;
  buildSignerUri?: string;
  buildSignerDigest?: string;
  runnerEnvironment?: string;
  sourceRepositoryUri?: string;
  sourceRepositoryDigest?: string;
  sourceRepositoryRef?: string;
  sourceRepositoryIdentifier?: string;
  sourceRepositoryOwnerUri?: string;
  sourceRepositoryOwnerIdentifier?: string;
  buildConfigUri?: string;
  buildConfigDigest?: string;
  buildTrigger?: string;
  runInvocationUri?: string;
  sourceRepositoryVisibilityAtSigning?: string;
  deploymentEnvironment?: string;
}

export type ClaimName = keyof FulcioClaims;

/** What the caller requires of the signer, checked after all cryptographic checks pass. */
export interface IdentityPolicy {
  subjectAlternativeName?: Matcher;
  issuer?: Matcher;
  claims?: Partial<Record<ClaimName, Matcher>>;
}

export interface InTotoSubject {
  name: string;
  digest: Record<string, string>;
}

export interface InTotoStatement {
  /** `https://in-toto.io/Statement/v0.1` or `https://in-toto.io/Statement/v1`. */
  type: string;
  subject: InTotoSubject[];
  predicateType: string;
  predicate: unknown;
}

export interface ResolvedDependency {
  uri?: string;
  digest?: Record<string, string>;
  name?: string;
}

/** A disagreement between the signer-controlled predicate and the certificate; the certificate wins. */
export interface Disagreement {
  field: string;
  certificate: string;
  predicate: string;
}

/** SLSA provenance v0.2 or v1, reduced to the facts policies ask about. */
export interface NormalizedProvenance {
  slsaVersion: '0.2' | '1';
  builderId?: string;
  buildType?: string;
  sourceRepositoryUri?: string;
  sourceRef?: string;
  sourceCommit?: string;
  workflowPath?: string;
  workflowInputs?: Record<string, unknown>;
  resolvedDependencies: ResolvedDependency[];
  startedOn?: string;
  finishedOn?: string;
  invocationId?: string;
}

export type Signer =
  | {
      kind: 'certificate';
      subjectAlternativeName: string;
      issuer?: string;
      claims: FulcioClaims;
      /** Subject of the CA that issued the leaf, for display. */
      certificateAuthority: string;
      notBefore: string;
      notAfter: string;
    }
  | { kind: 'key'; keyId: string };

export interface TlogFact {
  logId: string;
  logIndex: string;
  integratedTime?: string;
  kind: string;
  version: string;
  /** How inclusion was proven: a Merkle inclusion proof with checkpoint, or a signed entry timestamp. */
  proof: 'inclusion-proof' | 'inclusion-promise';
}

export interface TimestampFact {
  source: 'tlog' | 'rfc3161';
  time: string;
}

export type SignedContent =
  | { kind: 'message-signature'; digest: { algorithm: DigestAlgorithm; hex: string } }
  | { kind: 'dsse'; payloadType: string };

/** What a successful verification established. Every field was checked. */
export interface VerifiedAttestation {
  /** Bundle media type, or `application/vnd.dsse.envelope.v1+json` for a bare envelope. */
  mediaType: string;
  signer: Signer;
  content: SignedContent;
  statement?: InTotoStatement;
  /** The subject that matched the artifact (DSSE) or the artifact digest signed (message signature). */
  matchedSubject: { name?: string; algorithm: DigestAlgorithm; digest: string };
  provenance?: NormalizedProvenance;
  disagreements: Disagreement[];
  tlogEntries: TlogFact[];
  timestamps: TimestampFact[];
}
