// `provgate attestation verify`: gh attestation verify's flags and checks,
// offline, on provgate's engine. Signer identity (owner, repo, signer workflow,
// issuer) is checked by verification; runners and predicate types by the
// default policy.
import { parseArgs } from 'node:util';
import { loadTrustMaterial, TrustError } from '../trust/index.ts';
import type { IdentityPolicy } from '../verify/index.ts';
import { artifactRef, readAttestationFile, runCheck } from './check.ts';
import { UsageError, type CommandResult, type Io } from './io.ts';

export const ATTESTATION_VERIFY_USAGE = `usage: provgate attestation verify ARTIFACT (--owner OWNER | --repo OWNER/REPO) --bundle FILE
         [--signer-workflow WORKFLOW | --signer-repo OWNER/REPO | --cert-identity SAN | --cert-identity-regex RE]
         [--cert-oidc-issuer URL] [--deny-self-hosted-runners] [--predicate-type TYPE]
         [--custom-trusted-root FILE] [--digest-alg sha256|sha512] [--format json]

gh attestation verify, offline: --bundle is required (no API lookups). ARTIFACT is a
file or a digest (sha256:<hex>). A file is matched by both its digests unless
--digest-alg names one, as gh does. Regular expressions are anchored at both ends.
Exit status: 0 verified, 1 failed, 2 usage error.`;

const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';
const SLSA_V1 = 'https://slsa.dev/provenance/v1';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const githubUrl = (path: string) =>
  `https://github.com/${path.replace(/^(https:\/\/)?github\.com\//, '')}`;

export async function attestationCommand(argv: string[], io: Io): Promise<CommandResult> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') throw new UsageError(ATTESTATION_VERIFY_USAGE, 0);
  if (sub !== 'verify')
    throw new UsageError(
      `unknown attestation command ${JSON.stringify(sub ?? '')}\n${ATTESTATION_VERIFY_USAGE}`,
    );
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        owner: { type: 'string' },
        repo: { type: 'string' },
        bundle: { type: 'string' },
        'signer-workflow': { type: 'string' },
        'signer-repo': { type: 'string' },
        'cert-identity': { type: 'string' },
        'cert-identity-regex': { type: 'string' },
        'cert-oidc-issuer': { type: 'string' },
        'deny-self-hosted-runners': { type: 'boolean' },
        'predicate-type': { type: 'string' },
        'custom-trusted-root': { type: 'string' },
        'digest-alg': { type: 'string' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${ATTESTATION_VERIFY_USAGE}`);
  }
  const v = (k: string) => (typeof values[k] === 'string' ? values[k] : undefined);
  if (values.help === true) throw new UsageError(ATTESTATION_VERIFY_USAGE, 0);
  if (positionals.length !== 1)
    throw new UsageError(`give exactly one ARTIFACT\n${ATTESTATION_VERIFY_USAGE}`);
  const owner = v('owner');
  const repo = v('repo');
  if ((owner === undefined) === (repo === undefined)) {
    throw new UsageError(`give exactly one of --owner and --repo\n${ATTESTATION_VERIFY_USAGE}`);
  }
  if (repo !== undefined && !/^[^/]+\/[^/]+$/.test(repo))
    throw new UsageError('--repo takes OWNER/REPO');
  const bundle = v('bundle');
  if (bundle === undefined)
    throw new UsageError(
      `--bundle is required (provgate verifies offline)\n${ATTESTATION_VERIFY_USAGE}`,
    );
  const signerFlags = [
    'signer-workflow',
    'signer-repo',
    'cert-identity',
    'cert-identity-regex',
  ].filter((k) => v(k) !== undefined);
  if (signerFlags.length > 1)
    throw new UsageError(`--${signerFlags.join(', --')} cannot be combined`);
  const digestAlg = v('digest-alg');
  if (digestAlg !== undefined && digestAlg !== 'sha256' && digestAlg !== 'sha512')
    throw new UsageError('--digest-alg must be sha256 or sha512');
  const format = v('format');
  if (format !== undefined && format !== 'json') throw new UsageError('--format takes json');

  // gh's identity checks: the source repository (owner or repo) and the signer
  // (by default a workflow of that owner or repo), and the OIDC issuer.
  const issuer = v('cert-oidc-issuer') ?? GITHUB_ACTIONS_ISSUER;
  const scope = repo ?? owner!;
  const identity: IdentityPolicy = {
    issuer: { exact: issuer },
    claims:
      repo !== undefined
        ? { sourceRepositoryUri: { exact: githubUrl(repo) } }
        : { sourceRepositoryOwnerUri: { exact: githubUrl(owner!) } },
  };
  const workflow = v('signer-workflow');
  const signerRepo = v('signer-repo');
  identity.subjectAlternativeName =
    v('cert-identity') !== undefined
      ? { exact: v('cert-identity')! }
      : v('cert-identity-regex') !== undefined
        ? { regex: v('cert-identity-regex')! }
        : workflow !== undefined
          ? { regex: `${escape(githubUrl(workflow))}(?:@.*)?` }
          : { regex: `${escape(githubUrl(signerRepo ?? scope))}/.*` };

  let trust;
  try {
    trust = loadTrustMaterial({
      trustedRootFiles: v('custom-trusted-root') === undefined ? [] : [v('custom-trusted-root')!],
    });
  } catch (err) {
    if (err instanceof TrustError) throw new UsageError(err.message);
    throw err;
  }
  const runners =
    values['deny-self-hosted-runners'] === true
      ? ['github-hosted']
      : ['github-hosted', 'self-hosted'];
  const params = {
    require_npm_publish_attestation: false,
    // gh checks the predicate type asked for, keeps the attestations that
    // verify and needs one: the failed ones are warnings, not denials.
    require_slsa_provenance: false,
    deny_failed_attestations: false,
    required_predicate_types: [v('predicate-type') ?? SLSA_V1],
    deny_self_hosted_runners: values['deny-self-hosted-runners'] === true,
    // gh trusts the signer identity checked above, on any GitHub Actions runner of that issuer.
    extra_trusted_builders: runners.map((r) => ({
      id: `https://github.com/actions/runner/${r}`,
      kind: 'github_runner',
      issuer,
    })),
  };
  const artifact = await artifactRef(positionals[0]!);
  // gh digests a file with --digest-alg alone, so a bundle whose subject has only
  // the other digest fails. Without the flag, offline, both digests are tried.
  if (digestAlg !== undefined && !/^sha(256|512):/.test(positionals[0]!)) {
    const digest = artifact.digests[digestAlg];
    artifact.digests = digest === undefined ? {} : { [digestAlg]: digest };
  }
  const decision = await runCheck({
    artifacts: [{ artifact, attestations: [readAttestationFile(bundle)] }],
    params,
    trust,
    identity,
  });
  const input = decision.inputs[0];
  if (format === 'json') {
    io.stdout(
      JSON.stringify(
        {
          verified: decision.allowed,
          reasons: decision.reasons,
          attestations: input?.attestations ?? [],
        },
        null,
        2,
      ),
    );
  } else {
    io.stderr(`Loaded ${input?.attestations.length ?? 0} attestation(s) from ${bundle}`);
    for (const w of decision.warnings) io.stderr(`warning: ${w}`);
  }
  if (decision.allowed) {
    if (format !== 'json') io.stderr('✓ Verification succeeded!');
    return 0;
  }
  io.stderr(`✗ Verification failed: ${decision.reasons.join('; ')}`);
  return 1;
}
