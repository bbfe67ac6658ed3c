// SLSA provenance v0.2 and v1, reduced to the facts policies ask about, and
// reconciled with the Fulcio certificate: the predicate is written by the
// signer, the certificate by the CA from the CI's OIDC token, so where both
// state a fact the certificate wins.
// https://slsa.dev/spec/v0.2/provenance  https://slsa.dev/spec/v1.0/provenance

import { VerificationError } from './error.ts';
import { childPath, describeValue, isJsonObject } from './json.ts';
import type {
  Disagreement,
  FulcioClaims,
  InTotoStatement,
  NormalizedProvenance,
  ResolvedDependency,
} from './verify.types.ts';

export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

/**
 * Normalizes a SLSA v0.2 or v1 predicate; undefined for any other predicate
 * type. PROVENANCE_INVALID names the first field of the wrong shape.
 */
export function normalizeProvenance(statement: InTotoStatement): NormalizedProvenance | undefined {
  switch (statement.predicateType) {
    case SLSA_PROVENANCE_V02:
      return normalizeV02(requireObject(statement.predicate, 'predicate'));
    case SLSA_PROVENANCE_V1:
      return normalizeV1(requireObject(statement.predicate, 'predicate'));
    default:
      return undefined;
  }
}

function normalizeV02(predicate: Record<string, unknown>): NormalizedProvenance {
  const builder = requireObject(predicate['builder'], 'predicate.builder');
  const builderId = requireString(builder['id'], 'predicate.builder.id');
  const buildType = requireString(predicate['buildType'], 'predicate.buildType');

  const invocation = optionalObject(predicate['invocation'], 'predicate.invocation');
  const configSource = optionalObject(
    invocation?.['configSource'],
    'predicate.invocation.configSource',
  );
  const parameters = optionalObject(invocation?.['parameters'], 'predicate.invocation.parameters');
  const environment = optionalObject(
    invocation?.['environment'],
    'predicate.invocation.environment',
  );

  const materials = optionalArray(predicate['materials'], 'predicate.materials');
  const resolvedDependencies = materials.map((m, i) =>
    resourceDescriptor(m, childPath('predicate.materials', i)),
  );

  // The source is the config source; without one, the first material (as slsa-verifier reads it).
  let source: { uri?: string; digest?: Record<string, string>; path: string } | undefined;
  if (configSource !== undefined) {
    const path = 'predicate.invocation.configSource';
    source = {
      uri: optionalString(configSource['uri'], `${path}.uri`),
      digest: optionalDigestSet(configSource['digest'], `${path}.digest`),
      path,
    };
  } else if (resolvedDependencies[0] !== undefined) {
    source = { ...resolvedDependencies[0], path: 'predicate.materials[0]' };
  }
  const location = source?.uri === undefined ? undefined : parseSourceUri(source.uri);

  const metadata = optionalObject(predicate['metadata'], 'predicate.metadata');
  // The spec spells it buildInvocationId; in-toto-golang (slsa-github-generator) writes buildInvocationID.
  const invocationId =
    optionalString(metadata?.['buildInvocationId'], 'predicate.metadata.buildInvocationId') ??
    optionalString(metadata?.['buildInvocationID'], 'predicate.metadata.buildInvocationID');

  return withoutUndefined({
    slsaVersion: '0.2',
    builderId,
    buildType,
    sourceRepositoryUri: location?.repository,
    sourceRef: location?.ref,
    sourceCommit: source && commitFrom(source.digest, `${source.path}.digest`),
    workflowPath: optionalString(
      configSource?.['entryPoint'],
      'predicate.invocation.configSource.entryPoint',
    ),
    workflowInputs: workflowInputsV02(parameters, environment),
    resolvedDependencies,
    startedOn: optionalTimestamp(metadata?.['buildStartedOn'], 'predicate.metadata.buildStartedOn'),
    finishedOn: optionalTimestamp(
      metadata?.['buildFinishedOn'],
      'predicate.metadata.buildFinishedOn',
    ),
    invocationId,
  });
}

// workflow_dispatch inputs. slsa-github-generator records the whole event in
// environment.github_event_payload (GITHUB_EVENT_PAYLOAD for upper-cased BYOB
// environments); older generators wrote parameters.event_inputs. Note that a
// BYOB builder's parameters.inputs are the builder's `with:` inputs, not the
// workflow's, so they are not read here.
function workflowInputsV02(
  parameters: Record<string, unknown> | undefined,
  environment: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  for (const key of ['github_event_payload', 'GITHUB_EVENT_PAYLOAD']) {
    const path = `predicate.invocation.environment.${key}`;
    const payload = optionalObject(environment?.[key], path);
    const inputs = optionalObject(payload?.['inputs'], `${path}.inputs`);
    if (inputs !== undefined) return inputs;
  }
  return optionalObject(
    parameters?.['event_inputs'],
    'predicate.invocation.parameters.event_inputs',
  );
}

function normalizeV1(predicate: Record<string, unknown>): NormalizedProvenance {
  const definition = requireObject(predicate['buildDefinition'], 'predicate.buildDefinition');
  const buildType = requireString(definition['buildType'], 'predicate.buildDefinition.buildType');
  const external = requireObject(
    definition['externalParameters'],
    'predicate.buildDefinition.externalParameters',
  );
  const workflowPath = 'predicate.buildDefinition.externalParameters.workflow';
  const workflow = optionalObject(external['workflow'], workflowPath);
  const repository = optionalString(workflow?.['repository'], `${workflowPath}.repository`);
  const ref = optionalString(workflow?.['ref'], `${workflowPath}.ref`);
  const path = optionalString(workflow?.['path'], `${workflowPath}.path`);
  // GitHub Actions workflow build type: externalParameters.inputs holds the workflow_dispatch inputs.
  const workflowInputs = optionalObject(
    external['inputs'],
    'predicate.buildDefinition.externalParameters.inputs',
  );

  const dependencies = optionalArray(
    definition['resolvedDependencies'],
    'predicate.buildDefinition.resolvedDependencies',
  );
  const resolvedDependencies = dependencies.map((d, i) =>
    resourceDescriptor(d, childPath('predicate.buildDefinition.resolvedDependencies', i)),
  );

  const runDetails = requireObject(predicate['runDetails'], 'predicate.runDetails');
  const builder = requireObject(runDetails['builder'], 'predicate.runDetails.builder');
  const builderId = requireString(builder['id'], 'predicate.runDetails.builder.id');
  const metadata = optionalObject(runDetails['metadata'], 'predicate.runDetails.metadata');

  // The source dependency is `git+<workflow.repository>@<ref>` with a gitCommit digest.
  const sourceRepository =
    repository === undefined ? undefined : normalizeRepositoryUri(repository);
  const sourceIndex = resolvedDependencies.findIndex((d) => {
    if (d.uri === undefined || !d.uri.startsWith('git+')) return false;
    const location = parseSourceUri(d.uri);
    return sourceRepository === undefined
      ? location.ref !== undefined
      : sameRepository(location.repository, sourceRepository);
  });
  const source = resolvedDependencies[sourceIndex];
  const location = source?.uri === undefined ? undefined : parseSourceUri(source.uri);

  return withoutUndefined({
    slsaVersion: '1',
    builderId,
    buildType,
    sourceRepositoryUri: sourceRepository ?? location?.repository,
    sourceRef: ref ?? location?.ref,
    sourceCommit:
      source &&
      commitFrom(
        source.digest,
        `${childPath('predicate.buildDefinition.resolvedDependencies', sourceIndex)}.digest`,
      ),
    workflowPath: path,
    workflowInputs,
    resolvedDependencies,
    startedOn: optionalTimestamp(
      metadata?.['startedOn'],
      'predicate.runDetails.metadata.startedOn',
    ),
    finishedOn: optionalTimestamp(
      metadata?.['finishedOn'],
      'predicate.runDetails.metadata.finishedOn',
    ),
    invocationId: optionalString(
      metadata?.['invocationId'],
      'predicate.runDetails.metadata.invocationId',
    ),
  });
}

// v0.2 material / v1 ResourceDescriptor, keeping uri, digest and name.
function resourceDescriptor(value: unknown, path: string): ResolvedDependency {
  const descriptor = requireObject(value, path);
  return withoutUndefined({
    uri: optionalString(descriptor['uri'], `${path}.uri`),
    digest: optionalDigestSet(descriptor['digest'], `${path}.digest`),
    name: optionalString(descriptor['name'], `${path}.name`),
  });
}

// A git commit is gitCommit (v1) or sha1 (v0.2): 40 (SHA-1) or 64 (SHA-256) hex characters.
function commitFrom(digest: Record<string, string> | undefined, path: string): string | undefined {
  for (const algorithm of ['gitCommit', 'sha1']) {
    const value = digest?.[algorithm];
    if (value === undefined) continue;
    if (!/^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(value)) {
      throw invalid(
        `${path}.${algorithm} must be a 40 or 64 character hex commit, got ${describeValue(value)}`,
      );
    }
    return value.toLowerCase();
  }
  return undefined;
}

/**
 * Splits an SPDX download location such as
 * `git+https://github.com/o/r@refs/tags/v1` into the repository
 * (`https://github.com/o/r`) and the ref (`refs/tags/v1`).
 */
export function parseSourceUri(uri: string): { repository: string; ref?: string } {
  const bare = uri.startsWith('git+') ? uri.slice('git+'.length) : uri;
  // The ref follows the first `@` in the path (repository paths cannot hold one;
  // an `@` before the path is userinfo).
  const scheme = bare.indexOf('://');
  const pathStart = bare.indexOf('/', scheme === -1 ? 0 : scheme + 3);
  const at = pathStart === -1 ? -1 : bare.indexOf('@', pathStart);
  const repository = normalizeRepositoryUri(at === -1 ? bare : bare.slice(0, at));
  const ref = at === -1 ? '' : bare.slice(at + 1);
  return ref === '' ? { repository } : { repository, ref };
}

/** `git+https://GitHub.com/o/r.git/` -> `https://github.com/o/r` (no git+, @ref, .git or trailing slash). */
export function normalizeRepositoryUri(uri: string): string {
  let repository = uri.startsWith('git+') ? uri.slice('git+'.length) : uri;
  const scheme = repository.indexOf('://');
  const pathStart = repository.indexOf('/', scheme === -1 ? 0 : scheme + 3);
  const at = pathStart === -1 ? -1 : repository.indexOf('@', pathStart);
  if (at !== -1) repository = repository.slice(0, at);
  repository = repository.replace(/\/+$/, '').replace(/\.git$/, '');
  if (scheme !== -1) {
    // Scheme and host are case-insensitive.
    const authorityEnd = pathStart === -1 ? repository.length : pathStart;
    repository = repository.slice(0, authorityEnd).toLowerCase() + repository.slice(authorityEnd);
  }
  return repository;
}

// GitHub owner and repository names are case-insensitive; elsewhere paths are compared exactly.
function sameRepository(a: string, b: string): boolean {
  const x = normalizeRepositoryUri(a);
  const y = normalizeRepositoryUri(b);
  if (x === y) return true;
  return x.startsWith('https://github.com/') && x.toLowerCase() === y.toLowerCase();
}

const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';
const GITHUB_HOSTED_RUNNER = 'https://github.com/actions/runner';
// slsa-github-generator's BYOB delegators sign on behalf of the builder workflow
// that called them, which the predicate names as builder.id.
const SLSA_GITHUB_GENERATOR_DELEGATORS: readonly string[] = [
  'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml',
  'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_lowperms-generic_slsa3.yml',
];

/**
 * Overrides the predicate's facts with the certificate's where the certificate
 * states the same fact, and records each real difference (not differences of
 * format, such as `git+...@ref` versus `https://...`, or `123-1` versus
 * `.../actions/runs/123/attempts/1`). Compared:
 * - sourceRepositoryUri <- Source Repository URI (or the GitHub workflow repository extension)
 * - sourceRef <- Source Repository Ref (or the GitHub workflow ref extension)
 * - sourceCommit <- Source Repository Digest (or the GitHub workflow SHA extension)
 * - workflowPath <- the path in Build Config URI
 * - invocationId <- Run Invocation URI
 * - builderId <- Build Signer URI when the builder is the signing workflow
 *   (slsa-github-generator), except for a BYOB delegator, which signs for the
 *   builder it names; or the Runner Environment when the builder is GitHub's
 *   hosted runner (`https://github.com/actions/runner/github-hosted`).
 * Other fields (build type, inputs, dependencies, times) have no certificate
 * counterpart and stay signer-controlled.
 */
export function reconcileWithCertificate(
  provenance: NormalizedProvenance,
  claims: FulcioClaims,
): { provenance: NormalizedProvenance; disagreements: Disagreement[] } {
  const result: NormalizedProvenance = { ...provenance };
  const disagreements: Disagreement[] = [];
  const settle = (
    field:
      | 'builderId'
      | 'sourceRepositoryUri'
      | 'sourceRef'
      | 'sourceCommit'
      | 'workflowPath'
      | 'invocationId',
    certificate: string | undefined,
    equivalent: (certificate: string, predicate: string) => boolean,
  ): void => {
    if (certificate === undefined) return;
    const predicate = provenance[field];
    if (predicate !== undefined && !equivalent(certificate, predicate)) {
      disagreements.push({ field, certificate, predicate });
    }
    result[field] = certificate;
  };

  const github = isGitHubActions(claims.issuer);

  const repository =
    claims.sourceRepositoryUri ??
    (github && claims.githubWorkflowRepository !== undefined
      ? `https://github.com/${claims.githubWorkflowRepository}`
      : undefined);
  settle(
    'sourceRepositoryUri',
    repository === undefined ? undefined : normalizeRepositoryUri(repository),
    sameRepository,
  );

  const ref = claims.sourceRepositoryRef ?? (github ? claims.githubWorkflowRef : undefined);
  settle('sourceRef', ref, (c, p) => c === p);

  const commit = claims.sourceRepositoryDigest ?? (github ? claims.githubWorkflowSha : undefined);
  settle(
    'sourceCommit',
    commit === undefined ? undefined : bareDigest(commit),
    (c, p) => c === bareDigest(p),
  );

  settle(
    'workflowPath',
    configPath(claims.buildConfigUri, repository, ref),
    (c, p) => c === trimPath(p),
  );

  settle('invocationId', claims.runInvocationUri, sameInvocation);

  const builder = certifiedBuilderId(provenance.builderId, claims);
  if (builder !== undefined) settle('builderId', builder, (c, p) => c === p);

  return { provenance: result, disagreements };
}

function isGitHubActions(issuer: string | undefined): boolean {
  return (
    issuer === GITHUB_ACTIONS_ISSUER ||
    (issuer !== undefined && issuer.startsWith(`${GITHUB_ACTIONS_ISSUER}/`))
  );
}

// What the certificate says the builder id must be, or undefined where the
// certificate says nothing comparable about the builder.
function certifiedBuilderId(
  builderId: string | undefined,
  claims: FulcioClaims,
): string | undefined {
  if (builderId === undefined) return undefined;

  // GitHub's hosted runner as builder (npm CLI, actions/attest-build-provenance):
  // the suffix is the runner environment. The bare v0.2 form carries none.
  if (builderId.startsWith(`${GITHUB_HOSTED_RUNNER}/`)) {
    return claims.runnerEnvironment === undefined
      ? undefined
      : `${GITHUB_HOSTED_RUNNER}/${claims.runnerEnvironment}`;
  }

  // A workflow as builder: it is the signer, `<workflow>@<ref>` like the build signer URI.
  const signer = claims.buildSignerUri;
  if (signer === undefined || !isGitHubWorkflowUri(builderId) || !isGitHubWorkflowUri(signer)) {
    return undefined;
  }
  const signerWorkflow = withoutRef(signer);
  if (SLSA_GITHUB_GENERATOR_DELEGATORS.includes(signerWorkflow)) return undefined;
  // A signer without a ref only differs in format from the same workflow with one.
  if (signerWorkflow === signer && withoutRef(builderId) === signer) return builderId;
  return signer;
}

function isGitHubWorkflowUri(uri: string): boolean {
  return uri.startsWith('https://github.com/') && uri.includes('/.github/workflows/');
}

function withoutRef(workflowUri: string): string {
  const at = workflowUri.indexOf('@');
  return at === -1 ? workflowUri : workflowUri.slice(0, at);
}

// Build Config URI is `<repository>/<path>@<ref>` (GitLab puts `//` before the path).
function configPath(
  buildConfigUri: string | undefined,
  repository: string | undefined,
  ref: string | undefined,
): string | undefined {
  if (buildConfigUri === undefined || repository === undefined || ref === undefined) {
    return undefined;
  }
  const prefix = `${repository}/`;
  const suffix = `@${ref}`;
  if (
    !buildConfigUri.startsWith(prefix) ||
    !buildConfigUri.endsWith(suffix) ||
    buildConfigUri.length <= prefix.length + suffix.length
  ) {
    return undefined;
  }
  return trimPath(buildConfigUri.slice(prefix.length, -suffix.length));
}

function trimPath(path: string): string {
  return path.replace(/^(?:\.?\/)+/, '');
}

// Certificates may prefix digests with their algorithm (`sha1:abc`).
function bareDigest(digest: string): string {
  return digest.replace(/^[a-z0-9_-]+:/i, '').toLowerCase();
}

// slsa-github-generator v0.2 writes `<run id>-<attempt>` for `.../actions/runs/<run id>/attempts/<attempt>`.
function sameInvocation(certificate: string, predicate: string): boolean {
  if (certificate === predicate) return true;
  const run = /\/actions\/runs\/(\d+)\/attempts\/(\d+)$/.exec(certificate);
  return run !== null && predicate === `${run[1]}-${run[2]}`;
}

// Shape guards. null counts as absent for optional fields (Go writes nil maps as null).

function requireObject(value: unknown, path: string): Record<string, unknown> {
  if (!isJsonObject(value)) throw invalid(`${path} must be an object, got ${describeValue(value)}`);
  return value;
}

function optionalObject(value: unknown, path: string): Record<string, unknown> | undefined {
  return value === undefined || value === null ? undefined : requireObject(value, path);
}

function optionalArray(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${path} must be an array, got ${describeValue(value)}`);
  return value;
}

function requireString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') {
    throw invalid(`${path} must be a non-empty string, got ${describeValue(value)}`);
  }
  return value;
}

function optionalString(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw invalid(`${path} must be a string, got ${describeValue(value)}`);
  return value;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function optionalTimestamp(value: unknown, path: string): string | undefined {
  const text = optionalString(value, path);
  if (text !== undefined && (!RFC3339.test(text) || Number.isNaN(Date.parse(text)))) {
    throw invalid(`${path} must be an RFC 3339 timestamp, got ${describeValue(text)}`);
  }
  return text;
}

function optionalDigestSet(value: unknown, path: string): Record<string, string> | undefined {
  const digest = optionalObject(value, path);
  if (digest === undefined) return undefined;
  const entries = Object.entries(digest);
  for (const [algorithm, hex] of entries) {
    if (typeof hex !== 'string') {
      throw invalid(`${childPath(path, algorithm)} must be a string, got ${describeValue(hex)}`);
    }
  }
  return Object.fromEntries(entries as [string, string][]);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function invalid(message: string): VerificationError {
  return new VerificationError('PROVENANCE_INVALID', message);
}
