// What a GitHub Actions build attests, for the test PKI to sign: the Fulcio
// certificate a release workflow gets (SAN and every claim Fulcio derives from
// the Actions OIDC token, as in the real sigstore-js 2.1.0 certificate of
// test/fixtures/gh-attestation) and a SLSA v1 provenance shaped like
// actions/attest-build-provenance's (the same sample's DSSE payload: GitHub
// workflow build type, externalParameters.workflow, the git+ source
// dependency with its commit, the hosted runner as builder).
import { FULCIO_OIDS, inTotoStatement, type Claims } from '../../support/pki.ts';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const SLSA_V1 = 'https://slsa.dev/provenance/v1';
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export interface GitHubBuild {
  /** `owner/repo`. */
  repository: string;
  ref: string;
  /** Source commit (40 hex). */
  sha: string;
  /** Workflow path in the repository. */
  workflow: string;
  runId: string;
  runnerEnvironment: 'github-hosted' | 'self-hosted';
}

export const ACME_RELEASE: GitHubBuild = {
  repository: 'acme/app',
  ref: 'refs/tags/v1.0.0',
  sha: '3f786850e387550fdab836ed7e6dc881de23001b',
  workflow: '.github/workflows/release.yml',
  runId: '7301234567',
  runnerEnvironment: 'github-hosted',
};

/** The workflow identity Fulcio certifies: `https://github.com/<repo>/<workflow>@<ref>`. */
export function signerUri(b: GitHubBuild): string {
  return `https://github.com/${b.repository}/${b.workflow}@${b.ref}`;
}

/** SAN and Fulcio claims (issuer both ways: 1.1 raw and 1.8 UTF8String) of the build's certificate. */
export function githubIdentity(b: GitHubBuild = ACME_RELEASE): { san: string; claims: Claims } {
  const repoUrl = `https://github.com/${b.repository}`;
  const owner = b.repository.split('/')[0]!;
  const san = signerUri(b);
  return {
    san,
    claims: {
      [FULCIO_OIDS.issuerV1]: GITHUB_ISSUER,
      [FULCIO_OIDS.githubWorkflowTrigger]: 'push',
      [FULCIO_OIDS.githubWorkflowSha]: b.sha,
      [FULCIO_OIDS.githubWorkflowName]: 'Release',
      [FULCIO_OIDS.githubWorkflowRepository]: b.repository,
      [FULCIO_OIDS.githubWorkflowRef]: b.ref,
      [FULCIO_OIDS.issuer]: GITHUB_ISSUER,
      [FULCIO_OIDS.buildSignerURI]: san,
      [FULCIO_OIDS.buildSignerDigest]: b.sha,
      [FULCIO_OIDS.runnerEnvironment]: b.runnerEnvironment,
      [FULCIO_OIDS.sourceRepositoryURI]: repoUrl,
      [FULCIO_OIDS.sourceRepositoryDigest]: b.sha,
      [FULCIO_OIDS.sourceRepositoryRef]: b.ref,
      [FULCIO_OIDS.sourceRepositoryIdentifier]: '612345678',
      [FULCIO_OIDS.sourceRepositoryOwnerURI]: `https://github.com/${owner}`,
      [FULCIO_OIDS.sourceRepositoryOwnerIdentifier]: '71234567',
      [FULCIO_OIDS.buildConfigURI]: san,
      [FULCIO_OIDS.buildConfigDigest]: b.sha,
      [FULCIO_OIDS.buildTrigger]: 'push',
      [FULCIO_OIDS.runInvocationURI]: `${repoUrl}/actions/runs/${b.runId}/attempts/1`,
      [FULCIO_OIDS.sourceRepositoryVisibilityAtSigning]: 'public',
    },
  };
}

/** The in-toto Statement (DSSE payload) of `actions/attest-build-provenance` for `subjects`. */
export function buildProvenance(
  subjects: { name: string; digest: Record<string, string> }[],
  b: GitHubBuild = ACME_RELEASE,
): Buffer {
  const repoUrl = `https://github.com/${b.repository}`;
  return inTotoStatement(subjects, SLSA_V1, {
    buildDefinition: {
      buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
      externalParameters: {
        workflow: { ref: b.ref, repository: repoUrl, path: b.workflow },
      },
      internalParameters: {
        github: {
          event_name: 'push',
          repository_id: '612345678',
          repository_owner_id: '71234567',
        },
      },
      resolvedDependencies: [{ uri: `git+${repoUrl}@${b.ref}`, digest: { gitCommit: b.sha } }],
    },
    runDetails: {
      builder: { id: `https://github.com/actions/runner/${b.runnerEnvironment}` },
      metadata: { invocationId: `${repoUrl}/actions/runs/${b.runId}/attempts/1` },
    },
  });
}
