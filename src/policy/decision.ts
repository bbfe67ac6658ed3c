// The decision contract. The entrypoint `provgate/decision` must return
//   {"allow": boolean, "deny": [string], "warn": [string]}
// and the request is allowed only when the policy says allow AND gives no deny
// reason. Anything else (no result, a wrong shape, a failed or overlong
// evaluation) is a denial whose reason says which: never an accidental allow.

/** Why the engine, rather than the policy, produced a denial. */
export type DecisionFailureCode =
  'NO_DECISION' | 'WRONG_SHAPE' | 'EVALUATION_FAILED' | 'TIME_BUDGET_EXCEEDED' | 'INPUT_INVALID';

export interface DecisionFailure {
  readonly code: DecisionFailureCode;
  readonly message: string;
}

export interface Decision {
  /** True only when the policy allowed and gave no deny reason. */
  readonly allow: boolean;
  /** Deny reasons: the policy's, or the one failure reason. */
  readonly deny: readonly string[];
  readonly warn: readonly string[];
  /** Set when the engine denied because the evaluation did not yield a valid decision. */
  readonly failure?: DecisionFailure;
  /** The bundle the decision was made under. */
  readonly revision: string;
  readonly bundleDigest: string;
  /** Wall time of the evaluation, in milliseconds. */
  readonly durationMs: number;
}

/** The policy's own answer, before the engine adds revision and timing. */
export type PolicyVerdict =
  | { readonly ok: true; readonly allow: boolean; readonly deny: string[]; readonly warn: string[] }
  | { readonly ok: false; readonly failure: DecisionFailure };

/** Reads an opa-wasm result set (`[{"result": value}]`, or `[]` when undefined). */
export function toVerdict(resultSet: unknown): PolicyVerdict {
  if (!Array.isArray(resultSet)) {
    return wrongShape('the result set is not an array');
  }
  if (resultSet.length === 0) {
    return failed('NO_DECISION', 'policy returned no decision (undefined)');
  }
  if (resultSet.length > 1) {
    return wrongShape(`the result set has ${resultSet.length} results`);
  }
  const entry: unknown = resultSet[0];
  const value =
    typeof entry === 'object' && entry !== null
      ? (entry as { result?: unknown }).result
      : undefined;
  if (value === undefined) {
    return failed('NO_DECISION', 'policy returned no decision (undefined)');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return wrongShape(`the decision must be an object, not ${describeType(value)}`);
  }
  const { allow, deny, warn } = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof allow !== 'boolean')
    problems.push(`allow must be a boolean, not ${describeType(allow)}`);
  if (!isStringArray(deny)) problems.push(`deny must be an array of strings`);
  if (!isStringArray(warn)) problems.push(`warn must be an array of strings`);
  if (
    problems.length > 0 ||
    typeof allow !== 'boolean' ||
    !isStringArray(deny) ||
    !isStringArray(warn)
  ) {
    return wrongShape(problems.join('; '));
  }
  return { ok: true, allow: allow && deny.length === 0, deny, warn };
}

export function failed(code: DecisionFailureCode, message: string): PolicyVerdict {
  return { ok: false, failure: { code, message } };
}

function wrongShape(detail: string): PolicyVerdict {
  return failed('WRONG_SHAPE', `policy decision has the wrong shape: ${detail}`);
}

function isStringArray(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((e) => typeof e === 'string');
}

function describeType(x: unknown): string {
  if (x === undefined) return 'missing';
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return `a ${typeof x}`;
}
