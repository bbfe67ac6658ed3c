// SLSA provenance the default policy admits, signed at run time by the test
// PKI (test/support/pki.ts): the statement, predicate and Fulcio claims of the
// real slsa-github-generator sample (policies/examples/generic-v2.1.0-push-v13.0.30.json),
// with the subject swapped for the artifact under test. The keyless bundle
// (DSSE, Rekor v1 entry with inclusion proof and promise, SCT) verifies against
// the test PKI's trusted root, which the benchmark's provgate is told to trust.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createTestPki,
  FULCIO_OIDS,
  inTotoStatement,
  IN_TOTO_PAYLOAD_TYPE,
  type Claims,
} from '../../test/support/pki.ts';
import { ROOT } from './process.ts';

export const EXAMPLE = join(ROOT, 'policies/examples/generic-v2.1.0-push-v13.0.30.json');
export const EXAMPLE_SOURCE = 'github.com/slsa-framework/example-package';
/** Policy parameters for every benchmark: a configured source, so an allowed decision has no warning. */
export const POLICY_PARAMS = { allowed_sources: [EXAMPLE_SOURCE] };

interface ExampleAttestation {
  predicateType: string;
  signer: { subjectAlternativeName: string; claims: Record<string, string> };
  statement: { predicate: unknown };
}

// The example's claim names -> Fulcio OIDs.
const CLAIM_OIDS: Record<string, string> = {
  issuer: FULCIO_OIDS.issuer,
  githubWorkflowTrigger: FULCIO_OIDS.githubWorkflowTrigger,
  githubWorkflowSha: FULCIO_OIDS.githubWorkflowSha,
  githubWorkflowName: FULCIO_OIDS.githubWorkflowName,
  githubWorkflowRepository: FULCIO_OIDS.githubWorkflowRepository,
  githubWorkflowRef: FULCIO_OIDS.githubWorkflowRef,
  buildSignerUri: FULCIO_OIDS.buildSignerURI,
  buildSignerDigest: FULCIO_OIDS.buildSignerDigest,
  runnerEnvironment: FULCIO_OIDS.runnerEnvironment,
  sourceRepositoryUri: FULCIO_OIDS.sourceRepositoryURI,
  sourceRepositoryDigest: FULCIO_OIDS.sourceRepositoryDigest,
  sourceRepositoryRef: FULCIO_OIDS.sourceRepositoryRef,
  sourceRepositoryIdentifier: FULCIO_OIDS.sourceRepositoryIdentifier,
  sourceRepositoryOwnerUri: FULCIO_OIDS.sourceRepositoryOwnerURI,
  sourceRepositoryOwnerIdentifier: FULCIO_OIDS.sourceRepositoryOwnerIdentifier,
  buildConfigUri: FULCIO_OIDS.buildConfigURI,
  buildConfigDigest: FULCIO_OIDS.buildConfigDigest,
  buildTrigger: FULCIO_OIDS.buildTrigger,
  runInvocationUri: FULCIO_OIDS.runInvocationURI,
  sourceRepositoryVisibilityAtSigning: FULCIO_OIDS.sourceRepositoryVisibilityAtSigning,
};

export interface ProvenanceSigner {
  /** trusted_root.json of the test PKI, written into `dir`. */
  trustedRootFile: string;
  /** A bundle (JSON) whose statement names `subject` (sha256 hex) as its subject. */
  sign(name: string, sha256: string): Promise<unknown>;
}

export async function createProvenanceSigner(dir: string): Promise<ProvenanceSigner> {
  const example = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as {
    attestations: ExampleAttestation[];
  };
  const a = example.attestations[0]!;
  const claims: Claims = { [FULCIO_OIDS.issuerV1]: a.signer.claims.issuer! };
  for (const [name, value] of Object.entries(a.signer.claims)) {
    const oid = CLAIM_OIDS[name];
    if (oid === undefined) throw new Error(`no Fulcio OID known for the claim ${name}`);
    claims[oid] = value;
  }
  const pki = await createTestPki();
  const trustedRootFile = join(dir, 'trusted_root.json');
  writeFileSync(trustedRootFile, JSON.stringify(pki.trustedRoot));
  return {
    trustedRootFile,
    sign: (name, sha256) =>
      pki.signDsse(
        inTotoStatement(
          [{ name, digest: { sha256 } }],
          a.predicateType,
          a.statement.predicate,
          'v0.1',
        ),
        IN_TOTO_PAYLOAD_TYPE,
        { san: a.signer.subjectAlternativeName, claims },
      ),
  };
}
