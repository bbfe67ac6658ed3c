// One policy instance: an opa-wasm LoadedPolicy (a WebAssembly instance with
// its own bounded linear memory), the bundle data loaded into it once, and the
// per-evaluation context its host builtins read. An instance is synchronous
// and non-reentrant.

import { createRequire } from 'node:module';

import type { LoadedPolicy, loadPolicySync } from '@open-policy-agent/opa-wasm';

import { createHostBuiltins, type BuiltinContext } from './builtins.ts';
import { PolicyError, describeThrown } from './error.ts';
import { DECISION_ENTRYPOINT } from './manifest.ts';

// The package's ESM entry exports only the async loader; the CommonJS entry
// also has loadPolicySync, which lets a failed instance be replaced inline.
const opaWasm = createRequire(import.meta.url)('@open-policy-agent/opa-wasm') as {
  loadPolicySync: typeof loadPolicySync;
};

// Node provides WebAssembly at runtime; the project's TypeScript lib (es2023,
// no DOM) does not declare it, so the little used here is declared locally.
/** A compiled WebAssembly.Module. */
export interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}

const WebAssemblyApi = (
  globalThis as unknown as {
    WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> };
  }
).WebAssembly;

/** Compiles wasm bytes (off the main thread where the runtime can). */
export function compileWasm(bytes: Uint8Array): Promise<WasmModule> {
  return WebAssemblyApi.compile(bytes);
}

export interface MemoryLimits {
  /** Initial linear memory, in 64 KiB pages. */
  readonly initialPages: number;
  /** The linear memory never grows past this many pages: a runaway policy aborts instead. */
  readonly maxPages: number;
}

export interface PolicyInstance {
  readonly policy: LoadedPolicy;
  readonly context: BuiltinContext;
  /** The numeric id of `provgate/decision` in this module. */
  readonly entrypoint: number;
}

interface OpaExports {
  builtins(): number;
  entrypoints(): number;
  opa_json_dump(addr: number): number;
}

/** Instantiates the module with the host builtins and loads `data` (serialized JSON) into it. */
export function instantiate(
  module: WasmModule,
  data: ArrayBuffer | undefined,
  memory: MemoryLimits,
): PolicyInstance {
  const context: BuiltinContext = { nowNs: 0n };
  let policy: LoadedPolicy;
  try {
    policy = opaWasm.loadPolicySync(
      module as Parameters<typeof loadPolicySync>[0],
      { initial: Math.min(memory.initialPages, memory.maxPages), maximum: memory.maxPages },
      createHostBuiltins(context),
    );
    if (data !== undefined) policy.setData(data);
  } catch (err) {
    throw new PolicyError(
      'INSTANCE_FAILED',
      `cannot instantiate the policy (memory limit ${memory.maxPages} pages of 64 KiB): ${describeThrown(err)}`,
      err,
    );
  }
  const entrypoints = policy.entrypoints as Record<string, unknown>;
  const entrypoint = Object.hasOwn(entrypoints, DECISION_ENTRYPOINT)
    ? entrypoints[DECISION_ENTRYPOINT]
    : undefined;
  if (typeof entrypoint !== 'number') {
    throw new PolicyError(
      'ENTRYPOINT_MISSING',
      `the wasm module has no entrypoint ${DECISION_ENTRYPOINT} (it has: ${Object.keys(entrypoints).join(', ') || 'none'})`,
    );
  }
  return { policy, context, entrypoint };
}

/** The builtins the module imports from its host (its `builtins` export). */
export function requiredBuiltins(instance: PolicyInstance): string[] {
  const exports = wasmExports(instance.policy);
  const list = dumpJson(instance.policy, exports.opa_json_dump(exports.builtins()));
  if (typeof list !== 'object' || list === null || Array.isArray(list)) {
    throw new PolicyError(
      'BUNDLE_WASM_INVALID',
      'the wasm module lists its builtins in an unexpected form',
    );
  }
  return Object.keys(list).sort();
}

/**
 * Evaluates `provgate/decision` on a serialized input and returns the raw
 * result set. Throws whatever the module or a builtin throws (an abort is a string).
 */
export function evaluateInstance(
  instance: PolicyInstance,
  input: ArrayBuffer,
  nowNs: bigint,
): unknown {
  instance.context.nowNs = nowNs;
  return instance.policy.evaluate(input, instance.entrypoint) as unknown;
}

// LoadedPolicy's own typings name WebAssembly types this project's lib lacks.
// loadPolicySync keeps the WebAssembly.Instance itself in wasmInstance.
interface LoadedPolicyInternals {
  readonly mem: { readonly buffer: ArrayBuffer };
  readonly wasmInstance: { readonly exports: OpaExports };
}

function internals(policy: LoadedPolicy): LoadedPolicyInternals {
  return policy;
}

function wasmExports(policy: LoadedPolicy): OpaExports {
  return internals(policy).wasmInstance.exports;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// A NUL-terminated JSON string in the module's memory.
function dumpJson(policy: LoadedPolicy, addr: number): unknown {
  const bytes = new Uint8Array(internals(policy).mem.buffer);
  const end = bytes.indexOf(0, addr);
  if (end < 0)
    throw new PolicyError('BUNDLE_WASM_INVALID', 'the wasm module returned unterminated JSON');
  try {
    return JSON.parse(utf8.decode(bytes.subarray(addr, end))) as unknown;
  } catch (err) {
    throw new PolicyError(
      'BUNDLE_WASM_INVALID',
      `the wasm module returned invalid JSON: ${describeThrown(err)}`,
      err,
    );
  }
}
