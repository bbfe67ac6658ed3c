// The policy engine: the active bundle with its instance pool, evaluation
// under the decision contract (decision.ts), and atomic replacement of the
// bundle after a smoke evaluation. Pure apart from the monotonic clock, which
// a caller may inject.

import type { LoadedBundle } from './bundle.ts';
import {
  failed,
  toVerdict,
  type Decision,
  type DecisionFailureCode,
  type PolicyVerdict,
} from './decision.ts';
import { PolicyError, describeThrown, isPolicyError, type PolicyErrorCode } from './error.ts';
import { exactArrayBuffer } from './json.ts';
import { DEFAULT_EVALUATION_LIMITS, type EvaluationLimits } from './limits.ts';
import { InstancePool, type PoolCounters } from './pool.ts';
import { evaluateInstance } from './wasm.ts';

/** A fixed time for smoke evaluations (2023-11-14T22:13:20Z), so they are deterministic. */
export const SMOKE_TEST_NOW_NS = 1_700_000_000_000_000_000n;

export interface EngineOptions {
  readonly limits?: Partial<EvaluationLimits>;
  /** Monotonic milliseconds for the time budget. Default: performance.now. */
  readonly clock?: () => number;
  /** The minimal evaluation a bundle must pass (with a well-shaped decision) before it serves. */
  readonly smokeTest?: { readonly input?: unknown; readonly nowNs?: bigint };
}

export interface EvaluateOptions {
  /** The value of time.now_ns for this evaluation (nanoseconds since the epoch). */
  readonly nowNs: bigint;
}

export interface EngineStats {
  readonly revision: string;
  readonly bundleDigest: string;
  readonly evaluations: number;
  /** Denials the engine produced because the evaluation gave no valid decision, by cause. */
  readonly failures: Readonly<Record<DecisionFailureCode, number>>;
  readonly instancesCreated: number;
  readonly instancesDiscarded: number;
  /** Bundles activated after the first. */
  readonly reloads: number;
  readonly reloadFailures: number;
  readonly lastReloadError?: { readonly code: PolicyErrorCode; readonly message: string };
}

export type ReloadOutcome =
  | {
      readonly status: 'activated';
      readonly revision: string;
      readonly digest: string;
      readonly previousRevision: string;
    }
  | { readonly status: 'unchanged'; readonly revision: string; readonly digest: string }
  | { readonly status: 'failed'; readonly error: PolicyError };

/** An input serialized once, for callers that evaluate it more than once (benchmarks, retries). */
export class PreparedInput {
  readonly bytes: ArrayBuffer;
  constructor(bytes: ArrayBuffer) {
    this.bytes = bytes;
  }
}

export interface PolicyEngine {
  /** The revision of the active bundle. */
  readonly revision: string;
  readonly bundleDigest: string;
  readonly bundle: LoadedBundle;
  /** Serializes an input once; throws PolicyError INPUT_INVALID. */
  prepareInput(input: unknown): PreparedInput;
  /** Evaluates `provgate/decision`. Never throws: any failure is a denial that says why. */
  evaluate(input: unknown, options: EvaluateOptions): Decision;
  /**
   * Loads a candidate bundle and makes it active if it loads, verifies and
   * passes the smoke evaluation; otherwise the active bundle keeps serving.
   * Reloads run one at a time. Never rejects.
   */
  reload(load: () => Promise<LoadedBundle>): Promise<ReloadOutcome>;
  stats(): EngineStats;
}

interface Active {
  readonly bundle: LoadedBundle;
  readonly pool: InstancePool;
}

/** Activates `bundle` (instances created, smoke evaluation passed) or throws a PolicyError. */
export function createEngine(bundle: LoadedBundle, options: EngineOptions = {}): PolicyEngine {
  return new Engine(bundle, options);
}

const encoder = new TextEncoder();

class Engine implements PolicyEngine {
  readonly #limits: EvaluationLimits;
  readonly #clock: () => number;
  readonly #smokeInput: unknown;
  readonly #smokeNowNs: bigint;
  readonly #counters: PoolCounters = { instancesCreated: 0, instancesDiscarded: 0 };
  readonly #failures: Record<DecisionFailureCode, number> = {
    NO_DECISION: 0,
    WRONG_SHAPE: 0,
    EVALUATION_FAILED: 0,
    TIME_BUDGET_EXCEEDED: 0,
    INPUT_INVALID: 0,
  };
  #evaluations = 0;
  #reloads = 0;
  #reloadFailures = 0;
  #lastReloadError: EngineStats['lastReloadError'];
  #reloading: Promise<unknown> = Promise.resolve();
  #active: Active;

  constructor(bundle: LoadedBundle, options: EngineOptions) {
    this.#limits = { ...DEFAULT_EVALUATION_LIMITS, ...options.limits };
    this.#clock = options.clock ?? (() => performance.now());
    this.#smokeInput = options.smokeTest?.input ?? {};
    this.#smokeNowNs = options.smokeTest?.nowNs ?? SMOKE_TEST_NOW_NS;
    this.#active = this.#activate(bundle);
  }

  get revision(): string {
    return this.#active.bundle.revision;
  }

  get bundleDigest(): string {
    return this.#active.bundle.digest;
  }

  get bundle(): LoadedBundle {
    return this.#active.bundle;
  }

  prepareInput(input: unknown): PreparedInput {
    let text: string | undefined;
    try {
      text = JSON.stringify(input);
    } catch (err) {
      throw new PolicyError(
        'INPUT_INVALID',
        `policy input is not serializable: ${describeThrown(err)}`,
        err,
      );
    }
    if (text === undefined)
      throw new PolicyError('INPUT_INVALID', 'policy input is not a JSON value');
    // A UTF-16 code unit is at least one UTF-8 byte: length is a cheap lower bound.
    const max = this.#limits.maxInputBytes;
    if (text.length > max) throw inputTooLarge(max);
    const bytes = encoder.encode(text);
    if (bytes.byteLength > max) throw inputTooLarge(max);
    return new PreparedInput(exactArrayBuffer(bytes));
  }

  evaluate(input: unknown, options: EvaluateOptions): Decision {
    const active = this.#active;
    const start = this.#clock();
    let verdict = this.#run(active, input, options?.nowNs);
    const durationMs = this.#clock() - start;
    // Wasm cannot be interrupted in-process: an evaluation that overruns its
    // budget has already finished when the overrun is seen. Its result is
    // discarded and the request denied.
    if (verdict.ok && durationMs > this.#limits.timeBudgetMs) {
      verdict = failed(
        'TIME_BUDGET_EXCEEDED',
        `policy evaluation took ${durationMs.toFixed(1)} ms, over its time budget of ${this.#limits.timeBudgetMs} ms; result discarded`,
      );
    }
    this.#evaluations++;
    const common = {
      revision: active.bundle.revision,
      bundleDigest: active.bundle.digest,
      durationMs,
    };
    if (verdict.ok)
      return { allow: verdict.allow, deny: verdict.deny, warn: verdict.warn, ...common };
    this.#failures[verdict.failure.code]++;
    return {
      allow: false,
      deny: [verdict.failure.message],
      warn: [],
      failure: verdict.failure,
      ...common,
    };
  }

  reload(load: () => Promise<LoadedBundle>): Promise<ReloadOutcome> {
    const run = async (): Promise<ReloadOutcome> => {
      try {
        const bundle = await load();
        const current = this.#active.bundle;
        if (bundle.digest === current.digest) {
          return { status: 'unchanged', revision: current.revision, digest: current.digest };
        }
        this.#active = this.#activate(bundle);
        this.#reloads++;
        return {
          status: 'activated',
          revision: bundle.revision,
          digest: bundle.digest,
          previousRevision: current.revision,
        };
      } catch (err) {
        const error = isPolicyError(err)
          ? err
          : new PolicyError(
              'BUNDLE_READ_FAILED',
              `cannot load the policy bundle: ${describeThrown(err)}`,
              err,
            );
        this.#reloadFailures++;
        this.#lastReloadError = { code: error.code, message: error.message };
        return { status: 'failed', error };
      }
    };
    const outcome = this.#reloading.then(run, run);
    this.#reloading = outcome;
    return outcome;
  }

  stats(): EngineStats {
    return {
      revision: this.revision,
      bundleDigest: this.bundleDigest,
      evaluations: this.#evaluations,
      failures: { ...this.#failures },
      instancesCreated: this.#counters.instancesCreated,
      instancesDiscarded: this.#counters.instancesDiscarded,
      reloads: this.#reloads,
      reloadFailures: this.#reloadFailures,
      ...(this.#lastReloadError === undefined ? {} : { lastReloadError: this.#lastReloadError }),
    };
  }

  // A bundle serves only after an instance holds its data and a minimal
  // evaluation returns a well-shaped decision (allow or deny, either is fine).
  #activate(bundle: LoadedBundle): Active {
    const pool = new InstancePool(
      bundle,
      { initialPages: this.#limits.initialMemoryPages, maxPages: this.#limits.maxMemoryPages },
      this.#limits.poolSize,
      this.#counters,
    );
    pool.warm();
    const candidate = { bundle, pool };
    const verdict = this.#run(candidate, this.#smokeInput, this.#smokeNowNs);
    if (!verdict.ok) {
      throw new PolicyError(
        'SMOKE_TEST_FAILED',
        `bundle revision ${JSON.stringify(bundle.revision)} failed its smoke evaluation: ${verdict.failure.message}`,
      );
    }
    return candidate;
  }

  #run(active: Active, input: unknown, nowNs: unknown): PolicyVerdict {
    if (typeof nowNs !== 'bigint') {
      return failed('INPUT_INVALID', 'evaluation needs nowNs (bigint nanoseconds) for time.now_ns');
    }
    let bytes: ArrayBuffer;
    try {
      bytes = input instanceof PreparedInput ? input.bytes : this.prepareInput(input).bytes;
    } catch (err) {
      return failed('INPUT_INVALID', describeThrown(err));
    }
    let instance;
    try {
      instance = active.pool.acquire();
    } catch (err) {
      return failed('EVALUATION_FAILED', `no policy instance is available: ${describeThrown(err)}`);
    }
    let resultSet: unknown;
    try {
      resultSet = evaluateInstance(instance, bytes, nowNs);
    } catch (err) {
      // The instance may be inconsistent after a throw mid-evaluation: replace it.
      active.pool.discard(instance);
      return failed('EVALUATION_FAILED', `policy evaluation failed: ${describeThrown(err)}`);
    }
    active.pool.release(instance);
    return toVerdict(resultSet);
  }
}

function inputTooLarge(max: number): PolicyError {
  return new PolicyError('INPUT_INVALID', `policy input is over the limit of ${max} bytes`);
}
