// The policy engine: OPA bundles (Rego compiled to wasm) loaded under limits,
// signature-checked, evaluated in-process under the decision contract.
// Pure apart from load.ts (reads bundles from disk) and watch.ts (hot reload).
export { loadBundle, fileSetDigest } from './bundle.ts';
export type { BundleSource, LoadOptions, LoadedBundle } from './bundle.ts';
export { readArchive } from './archive.ts';
export type { BundleFiles } from './archive.ts';
export { createEngine, PreparedInput, SMOKE_TEST_NOW_NS } from './engine.ts';
export type {
  EngineOptions,
  EngineStats,
  EvaluateOptions,
  PolicyEngine,
  ReloadOutcome,
} from './engine.ts';
export type { Decision, DecisionFailure, DecisionFailureCode } from './decision.ts';
export { PolicyError, isPolicyError } from './error.ts';
export type { PolicyErrorCode } from './error.ts';
export { DEFAULT_BUNDLE_LIMITS, DEFAULT_EVALUATION_LIMITS } from './limits.ts';
export type { BundleLimits, EvaluationLimits } from './limits.ts';
export { DECISION_ENTRYPOINT } from './manifest.ts';
export type { Manifest } from './manifest.ts';
export { PARAMS_DATA_PATH, paramsDataPath } from './params.ts';
export { HOST_BUILTINS, SDK_BUILTINS } from './builtins.ts';
export type {
  SignatureConfig,
  SignatureFacts,
  SigningAlgorithm,
  VerificationKey,
} from './signature.ts';
export { loadBundleFromPath, readBundleSource } from './load.ts';
export { DEFAULT_POLICY_BUNDLE } from './default.ts';
export { watchBundle } from './watch.ts';
export type { BundleWatcher, PolicyLogEvent, WatchOptions } from './watch.ts';
