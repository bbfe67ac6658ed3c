// Every bound the policy engine applies, in one place. A bundle is operator
// supplied but may arrive over a channel an attacker can touch (a shared volume,
// a registry), so reading it is bounded like any hostile input.

export interface BundleLimits {
  /** Largest accepted bundle file as read (the compressed .tar.gz). */
  maxArchiveBytes: number;
  /** Sum of the sizes of all files in the bundle, uncompressed. */
  maxTotalBytes: number;
  /** Largest single file. */
  maxFileBytes: number;
  /** Entries in the archive or directory, directories included. */
  maxEntries: number;
  /** Longest path inside the bundle, in characters. */
  maxPathLength: number;
  /** Deepest nesting in data.json, .manifest and .signatures.json. */
  maxJsonDepth: number;
}

export const DEFAULT_BUNDLE_LIMITS: Readonly<BundleLimits> = Object.freeze({
  maxArchiveBytes: 32 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  maxFileBytes: 32 * 1024 * 1024,
  maxEntries: 2048,
  maxPathLength: 1024,
  maxJsonDepth: 128,
});

export interface EvaluationLimits {
  /** Instances kept per active bundle (an instance is non-reentrant). */
  poolSize: number;
  /** Initial linear memory of an instance, in 64 KiB wasm pages. */
  initialMemoryPages: number;
  /** Upper bound on the linear memory of an instance, in 64 KiB pages. */
  maxMemoryPages: number;
  /** Largest serialized policy input, in UTF-8 bytes. */
  maxInputBytes: number;
  /** Wall time one evaluation may take before its result is discarded. */
  timeBudgetMs: number;
}

export const DEFAULT_EVALUATION_LIMITS: Readonly<EvaluationLimits> = Object.freeze({
  poolSize: 2,
  initialMemoryPages: 16, // 1 MiB
  maxMemoryPages: 1024, // 64 MiB
  maxInputBytes: 4 * 1024 * 1024,
  timeBudgetMs: 100,
});
