// The policy-checking commands (verify-artifact, verify-npm-package,
// attestation verify) share this: the verification core plus a policy bundle
// (the default one unless given) with the command's flags as parameters, run
// through the same gate as the server, so the CLI and the server agree.
import { readFileSync } from 'node:fs';
import type { ArtifactRef, DiscoveredAttestation } from '../discover/index.ts';
import { createGate, type Decision } from '../gate/index.ts';
import {
  createEngine,
  loadBundleFromPath,
  DEFAULT_POLICY_BUNDLE,
  PolicyError,
} from '../policy/index.ts';
import type { TrustMaterial } from '../trust/index.ts';
import { parseDigest, type IdentityPolicy } from '../verify/index.ts';
import { readArtifact } from './artifact.ts';
import { UsageError } from './io.ts';

export interface CheckOptions {
  artifacts: { artifact: ArtifactRef; attestations: DiscoveredAttestation[] }[];
  params: Record<string, unknown>;
  trust: TrustMaterial;
  identity?: IdentityPolicy;
  bundlePath?: string;
  context?: Record<string, unknown>;
}

/**
 * The policy's time budget in a command. A command evaluates once, in a fresh
 * process whose wasm is not yet optimized, often on a busy CI runner: the
 * server's 100 ms budget, meant to shed a slow policy under load, would turn a
 * slow machine into a denial of a good artifact.
 */
export const CLI_EVALUATION_BUDGET_MS = 10_000;

export async function runCheck(options: CheckOptions): Promise<Decision> {
  let engine;
  try {
    const bundle = await loadBundleFromPath(options.bundlePath ?? DEFAULT_POLICY_BUNDLE, {
      params: options.params,
    });
    engine = createEngine(bundle, { limits: { timeBudgetMs: CLI_EVALUATION_BUDGET_MS } });
  } catch (err) {
    if (err instanceof PolicyError) throw new UsageError(`cannot load the policy: ${err.message}`);
    throw err;
  }
  const gate = createGate({
    trust: () => options.trust,
    policy: () => engine,
    cache: { maxEntries: 0, ttlSeconds: 1 },
    deadlineMs: 60_000,
    limits: { jsonDepth: 64, attestationsPerRequest: 256, attestationBytes: 64 * 1024 * 1024 },
  });
  return gate.decide({
    kind: 'cli',
    context: options.context ?? {},
    artifacts: options.artifacts.map((a) => ({ ...a, discover: false })),
    ...(options.identity === undefined ? {} : { identity: options.identity }),
  });
}

/** A file path or `sha256:<hex>` / `sha512:<hex>`, as an artifact reference named after it. */
export async function artifactRef(subject: string, name?: string): Promise<ArtifactRef> {
  if (/^sha(256|512):/.test(subject)) {
    try {
      return { name: name ?? subject, digests: parseDigest(subject) };
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const a = await readArtifact(subject);
  return { name: name ?? subject.split('/').pop() ?? subject, digests: a.digests };
}

export function readAttestationFile(path: string, source = path): DiscoveredAttestation {
  try {
    return { source, bytes: readFileSync(path) };
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

/** `https://github.com/o/r`, `github.com/o/r` or `o/r` -> `github.com/o/r` (slsa-verifier's source form). */
export function sourceUri(value: string): string {
  const s = value
    .replace(/^git\+/, '')
    .replace(/^https?:\/\//, '')
    .replace(/\.git$/, '')
    .replace(/\/$/, '');
  return s.includes('/') && s.split('/').length === 2 ? `github.com/${s}` : s;
}
