// decide(): the one path every request takes, whichever edge it came in by.
//   artifacts -> attestations (inline + discovery) -> verify (cached) ->
//   policy input -> evaluate -> Decision
// Deny by default: any error, on any artifact, at any stage, is a denial that
// names the stage and the cause; the deadline bounds the whole request.
import { createHash, randomUUID } from 'node:crypto';
import type { AttestationDiscovery, DiscoveredAttestation } from '../discover/index.ts';
import type { TrustMaterial } from '../trust/index.ts';
import { VerificationError } from '../verify/index.ts';
import { VerificationCache, type CacheStats } from './cache.ts';
import { verifyDocument as verifyInThread, type DocumentCheck } from './verifydoc.ts';
import { GateError } from './error.ts';
import { toPolicyInput } from './input.ts';
import type {
  ArtifactDecision,
  ArtifactRequest,
  AttestationOutcome,
  Decision,
  GateRequest,
  PolicyEvaluator,
  PolicyInput,
} from './gate.types.ts';

export interface GateOptions {
  /** The trust material in force; read per request so a reload takes effect at once. */
  trust: () => TrustMaterial;
  /** The policy in force; read per request. */
  policy: () => PolicyEvaluator;
  discovery?: AttestationDiscovery;
  cache: { maxEntries: number; ttlSeconds: number };
  deadlineMs: number;
  limits: { jsonDepth: number; attestationsPerRequest: number; attestationBytes: number };
  /**
   * Where documents are verified: by default in this thread; a worker pool
   * (workers.ts) moves the CPU-heavy part off the event loop. It must use the
   * same trust material (`trust().revision` keys the cache).
   */
  verifier?: (check: DocumentCheck) => Promise<AttestationOutcome[]>;
  /** Injected clock. */
  now?: () => Date;
  newDecisionId?: () => string;
}

export interface Gate {
  decide(request: GateRequest): Promise<Decision>;
  readonly cacheStats: CacheStats;
}

type Stage = 'discovery' | 'verification' | 'policy evaluation';

export function createGate(options: GateOptions): Gate {
  const now = options.now ?? (() => new Date());
  const newId = options.newDecisionId ?? randomUUID;
  const cache = new VerificationCache<AttestationOutcome[]>({
    maxEntries: options.cache.maxEntries,
    ttlMs: options.cache.ttlSeconds * 1000,
    now: () => now().getTime(),
  });

  async function decide(request: GateRequest): Promise<Decision> {
    const started = performance.now();
    const time = now();
    const decisionId = newId();
    const trust = options.trust();
    const policy = options.policy();
    const timings = { discoverMs: 0, verifyMs: 0, evaluateMs: 0, totalMs: 0 };
    const deadlineMs = request.deadlineMs ?? options.deadlineMs;
    const controller = new AbortController();
    const inputs: PolicyInput[] = [];

    const decideArtifact = async (
      item: ArtifactRequest,
      stage: { current: Stage },
    ): Promise<ArtifactDecision> => {
      stage.current = 'discovery';
      let t = performance.now();
      const documents = [...item.attestations];
      if (item.discover && options.discovery !== undefined) {
        documents.push(...(await options.discovery.discover(item.artifact, controller.signal)));
      }
      timings.discoverMs += performance.now() - t;
      if (documents.length > options.limits.attestationsPerRequest) {
        throw new GateError(
          'TOO_MANY_ATTESTATIONS',
          `${documents.length} attestation documents for ${describe(item)}; at most ${options.limits.attestationsPerRequest} are accepted`,
        );
      }

      stage.current = 'verification';
      t = performance.now();
      const outcomes: AttestationOutcome[] = [];
      for (const doc of documents) {
        controller.signal.throwIfAborted();
        outcomes.push(...(await verifyDocument(doc, item, trust, time)));
      }
      timings.verifyMs += performance.now() - t;

      stage.current = 'policy evaluation';
      controller.signal.throwIfAborted();
      t = performance.now();
      const input = toPolicyInput(request, item.artifact, outcomes, time);
      inputs.push(input);
      const result = policy.evaluate(input, { nowNs: BigInt(time.getTime()) * 1_000_000n });
      timings.evaluateMs += performance.now() - t;
      const allowed = result.allow && result.deny.length === 0;
      return {
        artifact: item.artifact,
        allowed,
        reasons: allowed
          ? []
          : result.deny.length > 0
            ? [...result.deny]
            : ['the policy did not allow it'],
        warnings: [...result.warn],
        policyRevision: result.revision ?? policy.revision,
        attestations: outcomes.map((o) =>
          o.ok
            ? {
                source: o.source,
                verified: true,
                ...(o.attestation.statement === undefined
                  ? {}
                  : { predicateType: o.attestation.statement.predicateType }),
              }
            : { source: o.source, verified: false, error: o.error },
        ),
      };
    };

    // Verification of one document: the cache shares identical work and keeps
    // only complete successes.
    const verifyDocument = (
      doc: DiscoveredAttestation,
      item: ArtifactRequest,
      trustMaterial: TrustMaterial,
      at: Date,
    ): Promise<AttestationOutcome[]> => {
      const docDigest = createHash('sha256').update(doc.bytes).digest('hex');
      const d = item.artifact.digests;
      const identity = request.identity === undefined ? '' : JSON.stringify(request.identity);
      const key = `${docDigest}|${d.sha256 ?? ''}|${d.sha512 ?? ''}|${trustMaterial.revision}|${identity}`;
      return cache
        .get(
          key,
          () => {
            const check: DocumentCheck = {
              bytes: doc.bytes,
              digests: item.artifact.digests,
              ...(request.identity === undefined ? {} : { identity: request.identity }),
              at: at.getTime(),
              limits: options.limits,
            };
            return options.verifier !== undefined
              ? options.verifier(check)
              : Promise.resolve(verifyInThread(check, trustMaterial));
          },
          (outcomes) => outcomes.every((o) => o.ok),
        )
        .then((outcomes) =>
          outcomes.map((o) => ({ ...o, source: prefixSource(doc.source, o.source) })),
        );
    };

    let artifacts: ArtifactDecision[];
    if (request.artifacts.length === 0) {
      artifacts = [];
    } else {
      const stages = request.artifacts.map((): { current: Stage } => ({ current: 'discovery' }));
      const work = Promise.all(
        request.artifacts.map((item, i) =>
          decideArtifact(item, stages[i]!).catch((err: unknown) =>
            denied(item, reasonOf(err, stages[i]!.current)),
          ),
        ),
      );
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<ArtifactDecision[]>((resolve) => {
        timer = setTimeout(() => {
          controller.abort(new GateError('DEADLINE_EXCEEDED', 'deadline exceeded'));
          resolve(
            request.artifacts.map((item, i) =>
              denied(
                item,
                `timed out after ${deadlineMs} ms during ${stages[i]!.current} for ${describe(item)}`,
              ),
            ),
          );
        }, deadlineMs);
      });
      try {
        artifacts = await Promise.race([work, deadline]);
      } finally {
        clearTimeout(timer);
        controller.abort();
      }
    }

    const several = artifacts.length > 1;
    const reasons =
      artifacts.length === 0
        ? ['the request names no artifact']
        : artifacts.flatMap((a) =>
            a.reasons.map((r) => (several ? `${a.artifact.uri ?? a.artifact.name}: ${r}` : r)),
          );
    const warnings = [
      ...new Set(
        artifacts.flatMap((a) =>
          a.warnings.map((w) => (several ? `${a.artifact.uri ?? a.artifact.name}: ${w}` : w)),
        ),
      ),
    ];
    timings.totalMs = performance.now() - started;
    return {
      decisionId,
      allowed: artifacts.length > 0 && artifacts.every((a) => a.allowed),
      reasons,
      warnings,
      artifacts,
      // A reload between artifacts is reported, never hidden: the revisions that decided.
      policyRevision:
        [...new Set(artifacts.map((a) => a.policyRevision ?? policy.revision))].join(',') ||
        policy.revision,
      trustRevision: trust.revision,
      timings: roundTimings(timings),
      inputs,
    };
  }

  return {
    decide,
    get cacheStats() {
      return cache.stats;
    },
  };
}

function denied(item: ArtifactRequest, reason: string): ArtifactDecision {
  return {
    artifact: item.artifact,
    allowed: false,
    reasons: [reason],
    warnings: [],
    attestations: [],
  };
}

function reasonOf(err: unknown, stage: Stage): string {
  if (err instanceof GateError || err instanceof VerificationError) return err.message;
  const coded = err as { code?: unknown; message?: unknown };
  if (typeof coded.code === 'string' && typeof coded.message === 'string') {
    return `${stage} failed: ${coded.message}`;
  }
  return `${stage} failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`;
}

function prefixSource(doc: string, inner: string): string {
  return inner === '' ? doc : `${doc} ${inner}`;
}

function describe(item: ArtifactRequest): string {
  const d = item.artifact.digests;
  return d.sha256 !== undefined
    ? `sha256:${d.sha256}`
    : d.sha512 !== undefined
      ? `sha512:${d.sha512}`
      : item.artifact.name;
}

function roundTimings<T extends Record<string, number>>(t: T): T {
  return Object.fromEntries(
    Object.entries(t).map(([k, v]) => [k, Math.round(v * 1000) / 1000]),
  ) as T;
}
