// slsa-verifier's commands on provgate's engine: the same flags, output and exit
// behaviour (0 PASSED, 1 FAILED), decided by the verification core and the
// default policy with the flags as its parameters.
import { parseArgs } from 'node:util';
import type { Decision } from '../gate/index.ts';
import { loadTrustMaterial, TrustError } from '../trust/index.ts';
import { artifactRef, readAttestationFile, runCheck, sourceUri } from './check.ts';
import { UsageError, type CommandResult, type Io } from './io.ts';

export const VERIFY_ARTIFACT_USAGE = `usage: provgate verify-artifact ARTIFACT... --provenance-path FILE --source-uri URI
         [--source-tag TAG | --source-versioned-tag VTAG] [--source-branch BRANCH]
         [--builder-id ID] [--build-workflow-input KEY=VALUE]... [--print-provenance]
         [--trusted-root FILE]...

slsa-verifier verify-artifact, on provgate's engine. ARTIFACT is a file or sha256:<hex>.
Exit status: 0 PASSED, 1 FAILED, 2 usage error.`;

export const VERIFY_NPM_USAGE = `usage: provgate verify-npm-package TARBALL --attestations-path FILE --source-uri URI
         [--package-name NAME] [--package-version VERSION] [--builder-id ID]
         [--source-tag TAG | --source-versioned-tag VTAG] [--source-branch BRANCH]
         [--build-workflow-input KEY=VALUE]... [--print-provenance] [--trusted-root FILE]...

slsa-verifier verify-npm-package, on provgate's engine: the npm registry's publish
attestation and the SLSA provenance must both verify and match the package.
The npm CLI's builder id is https://github.com/actions/runner/github-hosted.
Exit status: 0 PASSED, 1 FAILED, 2 usage error.`;

const COMMON = {
  'source-uri': { type: 'string' },
  'source-tag': { type: 'string' },
  'source-versioned-tag': { type: 'string' },
  'source-branch': { type: 'string' },
  'builder-id': { type: 'string' },
  'build-workflow-input': { type: 'string', multiple: true },
  'print-provenance': { type: 'boolean' },
  'trusted-root': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

function parse(
  argv: string[],
  extra: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>,
  usage: string,
) {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...COMMON, ...extra },
      allowPositionals: true,
    });
    if (values.help === true) throw new UsageError(usage, 0);
    return { values: values as Values, positionals };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${(err as Error).message}\n${usage}`);
  }
}

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** The default policy's parameters from slsa-verifier's flags. */
function params(values: Values, usage: string): Record<string, unknown> {
  const source = str(values, 'source-uri');
  if (source === undefined) throw new UsageError(`--source-uri is required\n${usage}`);
  if (
    str(values, 'source-tag') !== undefined &&
    str(values, 'source-versioned-tag') !== undefined
  ) {
    throw new UsageError(`--source-tag and --source-versioned-tag cannot be combined\n${usage}`);
  }
  const inputs: Record<string, string> = {};
  for (const kv of (values['build-workflow-input'] as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0)
      throw new UsageError(`--build-workflow-input takes KEY=VALUE, got ${JSON.stringify(kv)}`);
    inputs[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return {
    allowed_sources: [sourceUri(source)],
    source_tag: str(values, 'source-tag') ?? '',
    source_versioned_tag: str(values, 'source-versioned-tag') ?? '',
    source_branch: str(values, 'source-branch') ?? '',
    builder_id: str(values, 'builder-id') ?? '',
    workflow_inputs: inputs,
  };
}

function trustFrom(values: Values) {
  try {
    return loadTrustMaterial({
      trustedRootFiles: (values['trusted-root'] as string[] | undefined) ?? [],
    });
  } catch (err) {
    if (err instanceof TrustError) throw new UsageError(err.message);
    throw err;
  }
}

export async function verifyArtifactCommand(argv: string[], io: Io): Promise<CommandResult> {
  const { values, positionals } = parse(
    argv,
    { 'provenance-path': { type: 'string' } },
    VERIFY_ARTIFACT_USAGE,
  );
  const provenance = str(values, 'provenance-path');
  if (provenance === undefined)
    throw new UsageError(`--provenance-path is required\n${VERIFY_ARTIFACT_USAGE}`);
  if (positionals.length === 0)
    throw new UsageError(`give at least one ARTIFACT\n${VERIFY_ARTIFACT_USAGE}`);
  const p = { ...params(values, VERIFY_ARTIFACT_USAGE), require_npm_publish_attestation: false };
  const doc = readAttestationFile(provenance);
  const artifacts = await Promise.all(
    positionals.map(async (a) => ({ artifact: await artifactRef(a), attestations: [doc] })),
  );
  const decision = await runCheck({ artifacts, params: p, trust: trustFrom(values) });
  return report(
    decision,
    io,
    values['print-provenance'] === true,
    (name) => `Verifying artifact ${name}`,
  );
}

export async function verifyNpmPackageCommand(argv: string[], io: Io): Promise<CommandResult> {
  const { values, positionals } = parse(
    argv,
    {
      'attestations-path': { type: 'string' },
      'package-name': { type: 'string' },
      'package-version': { type: 'string' },
    },
    VERIFY_NPM_USAGE,
  );
  const attestations = str(values, 'attestations-path');
  if (attestations === undefined)
    throw new UsageError(`--attestations-path is required\n${VERIFY_NPM_USAGE}`);
  if (positionals.length !== 1)
    throw new UsageError(`give exactly one TARBALL\n${VERIFY_NPM_USAGE}`);
  const p = {
    ...params(values, VERIFY_NPM_USAGE),
    package_name: str(values, 'package-name') ?? '',
    package_version: str(values, 'package-version') ?? '',
    require_npm_publish_attestation: true,
  };
  const artifact = await artifactRef(positionals[0]!);
  const decision = await runCheck({
    artifacts: [{ artifact, attestations: [readAttestationFile(attestations)] }],
    params: p,
    trust: trustFrom(values),
  });
  return report(
    decision,
    io,
    values['print-provenance'] === true,
    (name) => `Verifying npm package ${name}`,
  );
}

function report(
  decision: Decision,
  io: Io,
  printProvenance: boolean,
  what: (name: string) => string,
): CommandResult {
  for (const a of decision.artifacts) {
    const input = decision.inputs.find((i) => i.artifact === a.artifact);
    for (const att of input?.attestations ?? []) {
      if (!att.verified) continue;
      for (const t of att.tlogEntries) {
        io.stderr(
          `Verified signature against tlog entry index ${t.logIndex} (${t.kind} ${t.version}, ${t.proof})`,
        );
      }
      if (att.provenance?.builderId !== undefined) {
        io.stderr(
          `Verified build using builder "${att.provenance.builderId}"${att.provenance.sourceCommit === undefined ? '' : ` at commit ${att.provenance.sourceCommit}`}`,
        );
      }
      // As slsa-verifier: the SLSA provenance only (not npm's publish attestation),
      // and only for an artifact that passed.
      if (
        printProvenance &&
        a.allowed &&
        att.provenance !== undefined &&
        att.statement !== undefined
      )
        io.stdout(JSON.stringify(att.statement));
    }
    io.stderr(`${what(a.artifact.name)}: ${a.allowed ? 'PASSED' : 'FAILED'}`);
    for (const w of a.warnings) io.stderr(`warning: ${w}`);
  }
  io.stderr('');
  if (decision.allowed) {
    io.stderr('PASSED: SLSA verification passed');
    return 0;
  }
  io.stderr(`FAILED: SLSA verification failed: ${decision.reasons.join('; ')}`);
  return 1;
}
