// `provgate verify-bundle` (the sigstore-conformance client protocol) and
// `provgate verify` (the same check for people, printing the verified facts).
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadTrustMaterial, TrustError, type TrustMaterial } from '../trust/index.ts';
import {
  parseAttestations,
  parseDigest,
  verifyAttestation,
  VerificationError,
  type Artifact,
  type IdentityPolicy,
  type VerifiedAttestation,
} from '../verify/index.ts';
import { readArtifact } from './artifact.ts';
import { UsageError, type CommandResult, type Io } from './io.ts';

const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

const VERIFY_OPTIONS = {
  bundle: { type: 'string' },
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'certificate-oidc-issuer-regexp': { type: 'string' },
  key: { type: 'string' },
  'trusted-root': { type: 'string', multiple: true },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const VERIFY_BUNDLE_USAGE = `usage: provgate verify-bundle --bundle FILE (--certificate-identity ID --certificate-oidc-issuer URL | --key PEM) [--trusted-root FILE] FILE_OR_DIGEST

Verifies one Sigstore bundle for a file or a digest (sha256:<hex>), offline.
Without --trusted-root the embedded Sigstore public-good root is used.
Exit status: 0 verified, 1 verification failed, 2 usage or configuration error.`;

export const VERIFY_USAGE = `usage: provgate verify ARTIFACT|DIGEST --bundle FILE [identity or key flags] [--trusted-root FILE]... [--format text|json]

Verifies every attestation in FILE (a Sigstore bundle, JSON Lines of bundles, an
npm attestations document or a DSSE envelope) for ARTIFACT, and prints the
verified facts: signer, claims, statement and provenance.

  --certificate-identity ID           exact signer identity (certificate SAN)
  --certificate-identity-regexp RE    anchored regular expression for the SAN
  --certificate-oidc-issuer URL       exact OIDC issuer
  --certificate-oidc-issuer-regexp RE anchored regular expression for the issuer
  --key PEM                           verify with this public key instead
  --trusted-root FILE                 trusted_root.json (repeatable); default: embedded public-good root

Exit status: 0 verified, 1 verification failed, 2 usage or configuration error.`;

interface Parsed {
  bundlePath: string;
  subject: string;
  identity?: IdentityPolicy;
  key?: KeyObject;
  trust: TrustMaterial;
  format: 'text' | 'json';
}

function parse(argv: string[], usage: string, conformance: boolean): Parsed {
  let values: ReturnType<
    typeof parseArgs<{ options: typeof VERIFY_OPTIONS; allowPositionals: true }>
  >['values'];
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: VERIFY_OPTIONS,
      allowPositionals: true,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${usage}`);
  }
  if (values.help === true) throw new UsageError(usage, 0);
  if (positionals.length !== 1)
    throw new UsageError(`expected exactly one FILE_OR_DIGEST\n${usage}`);
  if (values.bundle === undefined) throw new UsageError(`--bundle is required\n${usage}`);
  const hasIdentity =
    values['certificate-identity'] !== undefined ||
    values['certificate-identity-regexp'] !== undefined;
  const hasIssuer =
    values['certificate-oidc-issuer'] !== undefined ||
    values['certificate-oidc-issuer-regexp'] !== undefined;
  if (values.key !== undefined && (hasIdentity || hasIssuer)) {
    throw new UsageError(`--key cannot be combined with certificate identity flags\n${usage}`);
  }
  if (conformance && values.key === undefined && !(hasIdentity && hasIssuer)) {
    throw new UsageError(
      `give --certificate-identity and --certificate-oidc-issuer, or --key\n${usage}`,
    );
  }
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json')
    throw new UsageError(`--format must be text or json\n${usage}`);

  let key: KeyObject | undefined;
  if (values.key !== undefined) {
    try {
      key = createPublicKey(readFileSync(values.key, 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot use --key ${values.key}: ${(err as Error).message}`);
    }
  }
  const identity: IdentityPolicy = {};
  const san = values['certificate-identity'] ?? values['certificate-identity-regexp'];
  if (san !== undefined) {
    identity.subjectAlternativeName =
      values['certificate-identity'] !== undefined ? { exact: san } : { regex: san };
  }
  const issuer = values['certificate-oidc-issuer'] ?? values['certificate-oidc-issuer-regexp'];
  if (issuer !== undefined) {
    identity.issuer =
      values['certificate-oidc-issuer'] !== undefined ? { exact: issuer } : { regex: issuer };
  }
  let trust: TrustMaterial;
  try {
    trust = loadTrustMaterial({ trustedRootFiles: values['trusted-root'] ?? [] });
  } catch (err) {
    if (err instanceof TrustError) throw new UsageError(err.message);
    throw err;
  }
  return {
    bundlePath: values.bundle,
    subject: positionals[0]!,
    ...(Object.keys(identity).length === 0 ? {} : { identity }),
    ...(key === undefined ? {} : { key }),
    trust,
    format,
  };
}

async function artifactFor(subject: string): Promise<Artifact> {
  if (/^sha(256|512):/.test(subject)) {
    try {
      return { digests: parseDigest(subject) };
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return readArtifact(subject);
}

function readBundleFile(path: string): Buffer {
  try {
    const buf = readFileSync(path);
    if (buf.length > MAX_BUNDLE_BYTES) {
      throw new VerificationError(
        'INPUT_TOO_LARGE',
        `${path} is larger than ${MAX_BUNDLE_BYTES} bytes`,
      );
    }
    return buf;
  } catch (err) {
    if (err instanceof VerificationError) throw err;
    throw new UsageError(`cannot read --bundle ${path}: ${(err as Error).message}`);
  }
}

/** Verifies every attestation in the file; the first failure is the answer. */
async function verifyAll(p: Parsed): Promise<VerifiedAttestation[]> {
  const artifact = await artifactFor(p.subject);
  const attestations = parseAttestations(readBundleFile(p.bundlePath));
  const now = new Date();
  return attestations.map((a) => {
    try {
      return verifyAttestation(a, artifact, p.trust, {
        ...(p.identity === undefined ? {} : { identity: p.identity }),
        ...(p.key === undefined ? {} : { key: p.key }),
        now,
      });
    } catch (err) {
      if (err instanceof VerificationError && attestations.length > 1) {
        throw new VerificationError(err.code, `${a.origin}: ${err.message}`, err);
      }
      throw err;
    }
  });
}

export async function verifyBundleCommand(argv: string[], io: Io): Promise<CommandResult> {
  const p = parse(argv, VERIFY_BUNDLE_USAGE, true);
  try {
    await verifyAll(p);
  } catch (err) {
    if (err instanceof VerificationError) {
      io.stderr(`verification failed: ${err.code}: ${err.message}`);
      return 1;
    }
    throw err;
  }
  io.stderr('verified OK');
  return 0;
}

export async function verifyCommand(argv: string[], io: Io): Promise<CommandResult> {
  const p = parse(argv, VERIFY_USAGE, false);
  let results: VerifiedAttestation[];
  try {
    results = await verifyAll(p);
  } catch (err) {
    if (err instanceof VerificationError) {
      if (p.format === 'json') {
        io.stdout(
          JSON.stringify(
            { verified: false, error: { code: err.code, message: err.message } },
            null,
            2,
          ),
        );
      }
      io.stderr(`verification failed: ${err.code}: ${err.message}`);
      return 1;
    }
    throw err;
  }
  if (p.format === 'json') {
    io.stdout(JSON.stringify({ verified: true, attestations: results }, null, 2));
  } else {
    results.forEach((r, i) => io.stdout(describe(r, i, results.length)));
  }
  return 0;
}

function describe(r: VerifiedAttestation, index: number, total: number): string {
  const lines: string[] = [];
  lines.push(total > 1 ? `attestation ${index + 1} of ${total}: verified` : 'verified');
  if (r.signer.kind === 'certificate') {
    lines.push(`  signer:     ${r.signer.subjectAlternativeName}`);
    lines.push(`  issuer:     ${r.signer.issuer ?? '(none)'}`);
    for (const [k, v] of Object.entries(r.signer.claims)) {
      if (k !== 'issuer' && v !== undefined) lines.push(`    ${k}: ${v}`);
    }
  } else {
    lines.push(`  signer:     key ${r.signer.keyId}`);
  }
  const subject = r.matchedSubject;
  lines.push(
    `  subject:    ${subject.name === undefined ? '' : `${subject.name} `}${subject.algorithm}:${subject.digest}`,
  );
  if (r.statement !== undefined) lines.push(`  predicate:  ${r.statement.predicateType}`);
  const prov = r.provenance;
  if (prov !== undefined) {
    lines.push(`  provenance: SLSA v${prov.slsaVersion}`);
    if (prov.builderId !== undefined) lines.push(`    builder:  ${prov.builderId}`);
    if (prov.sourceRepositoryUri !== undefined)
      lines.push(`    source:   ${prov.sourceRepositoryUri}`);
    if (prov.sourceRef !== undefined) lines.push(`    ref:      ${prov.sourceRef}`);
    if (prov.sourceCommit !== undefined) lines.push(`    commit:   ${prov.sourceCommit}`);
  }
  for (const d of r.disagreements) {
    lines.push(
      `  note: predicate says ${d.field}=${d.predicate}, the certificate says ${d.certificate} (the certificate wins)`,
    );
  }
  for (const t of r.tlogEntries)
    lines.push(`  tlog:       ${t.kind} ${t.version} entry ${t.logIndex} (${t.proof})`);
  for (const t of r.timestamps) lines.push(`  time:       ${t.time} (${t.source})`);
  return lines.join('\n');
}
