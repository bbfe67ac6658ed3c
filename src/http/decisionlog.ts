// The decision log: one JSON line per decision, in OPA's decision-log shape
// (decision_id, timestamp, path, input or its digest, result, bundle revision,
// metrics). Inputs are masked by JSON pointer; credentials never reach them
// (the gate's input holds no request headers).
import { createHash } from 'node:crypto';
import type { Decision } from '../gate/index.ts';

export interface DecisionLogOptions {
  enabled: boolean;
  input: 'full' | 'digest' | 'none';
  mask: string[];
}

export interface DecisionLogContext {
  route: string;
  mode: string;
  /** What the edge answered: in warn or audit mode a denial is answered as allowed. */
  answered: boolean;
}

export function decisionRecord(
  decision: Decision,
  ctx: DecisionLogContext,
  options: DecisionLogOptions,
): Record<string, unknown> {
  // Only a logged input is copied (and masked); a digest is taken of the input as evaluated.
  let input: Record<string, unknown> = {};
  if (options.input === 'full') {
    const inputs = decision.inputs.map((i) => mask(structuredClone(i) as unknown, options.mask));
    input = { input: inputs.length === 1 ? inputs[0] : inputs };
  } else if (options.input === 'digest') {
    const digest = createHash('sha256').update(JSON.stringify(decision.inputs)).digest('hex');
    input = { input_digest: `sha256:${digest}` };
  }
  return {
    decision_id: decision.decisionId,
    timestamp: new Date().toISOString(),
    path: 'provgate/decision',
    ...input,
    result: { allowed: decision.allowed, reasons: decision.reasons, warnings: decision.warnings },
    bundles: { provgate: { revision: decision.policyRevision } },
    metrics: {
      timer_discover_ms: decision.timings.discoverMs,
      timer_verify_ms: decision.timings.verifyMs,
      timer_eval_ms: decision.timings.evaluateMs,
      timer_total_ms: decision.timings.totalMs,
    },
    labels: { app: 'provgate', route: ctx.route },
    provgate: {
      mode: ctx.mode,
      answered_allowed: ctx.answered,
      trust_revision: decision.trustRevision,
      artifacts: decision.artifacts.map((a) => ({
        name: a.artifact.name,
        uri: a.artifact.uri,
        digests: a.artifact.digests,
        allowed: a.allowed,
      })),
    },
  };
}

/** Removes the values at the given JSON pointers (RFC 6901). */
export function mask(value: unknown, pointers: string[]): unknown {
  for (const pointer of pointers) {
    const parts = pointer
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node: unknown = value;
    for (let i = 0; i < parts.length - 1 && node !== null && typeof node === 'object'; i++) {
      node = (node as Record<string, unknown>)[parts[i]!];
    }
    const last = parts[parts.length - 1];
    if (
      node !== null &&
      typeof node === 'object' &&
      last !== undefined &&
      Object.hasOwn(node, last)
    ) {
      (node as Record<string, unknown>)[last] = '[masked]';
    }
  }
  return value;
}
