// Loading an OPA bundle built with `opa build -t wasm -e provgate/decision`:
// read the file set under limits, verify its signature (before interpreting
// any of it), validate the manifest and data, merge the configured
// parameters, compile the module and refuse it if it needs a builtin provgate
// cannot supply. No I/O: the fs edge (load.ts) supplies the bytes.

import { createHash } from 'node:crypto';

import { FileCollector, normalizeBundlePath, readArchive, type BundleFiles } from './archive.ts';
import { unsupportedBuiltins } from './builtins.ts';
import { PolicyError, describeThrown } from './error.ts';
import { decodeJsonFile, exactArrayBuffer, isJsonObject, type JsonObject } from './json.ts';
import { DEFAULT_BUNDLE_LIMITS, DEFAULT_EVALUATION_LIMITS, type BundleLimits } from './limits.ts';
import { assertDataWithinRoots, parseManifest, type Manifest } from './manifest.ts';
import { mergeParams } from './params.ts';
import {
  SIGNATURES_FILE,
  verifyBundleSignature,
  type SignatureConfig,
  type SignatureFacts,
} from './signature.ts';
import { compileWasm, instantiate, requiredBuiltins, type WasmModule } from './wasm.ts';

const WASM_FILE = 'policy.wasm';
const MANIFEST_FILE = '.manifest';
const DATA_FILE = 'data.json';

export type BundleSource =
  | { readonly kind: 'archive'; readonly bytes: Uint8Array }
  | { readonly kind: 'files'; readonly files: BundleFiles };

export interface LoadOptions {
  readonly limits?: Partial<BundleLimits>;
  /** provgate's configuration parameters, merged under data.provgate.params (params.ts). */
  readonly params?: unknown;
  /** Keys for signed bundles; when any is configured, the bundle must be signed by one. */
  readonly verification?: SignatureConfig;
}

export interface LoadedBundle {
  /** The manifest's revision ("" when the author set none). */
  readonly revision: string;
  /** sha256 over the bundle's file set (each path with the sha256 of its content). */
  readonly digest: string;
  readonly manifest: Manifest;
  /** Present when the bundle was signed and the signature verified. */
  readonly signature?: SignatureFacts;
  /** The bundle's files, sorted. */
  readonly files: readonly string[];
  /** Builtins the module imports from its host, sorted. */
  readonly requiredBuiltins: readonly string[];
  /** The compiled module, instantiated once per pool slot. */
  readonly module: WasmModule;
  /** data.json merged with the parameters, serialized once for every instance. */
  readonly data: ArrayBuffer;
}

export async function loadBundle(
  source: BundleSource,
  options: LoadOptions = {},
): Promise<LoadedBundle> {
  const limits: BundleLimits = { ...DEFAULT_BUNDLE_LIMITS, ...options.limits };
  const files =
    source.kind === 'archive'
      ? await readArchive(source.bytes, limits)
      : checkFiles(source.files, limits);
  for (const path of files.keys()) assertKnownFile(path);

  // Verify first: nothing below reads a byte the signature has not covered.
  const signature = await verifyBundleSignature(files, options.verification, limits.maxJsonDepth);

  const manifestBytes = files.get(MANIFEST_FILE);
  if (manifestBytes === undefined) {
    throw new PolicyError(
      'MANIFEST_MISSING',
      `bundle has no ${MANIFEST_FILE} (build it with opa build -t wasm)`,
    );
  }
  const manifest = parseManifest(
    decodeJsonFile(manifestBytes, MANIFEST_FILE, limits.maxJsonDepth, 'MANIFEST_INVALID'),
  );

  const wasmBytes = files.get(WASM_FILE);
  if (wasmBytes === undefined) {
    throw new PolicyError(
      'BUNDLE_WASM_MISSING',
      `bundle has no /${WASM_FILE} (build it with opa build -t wasm)`,
    );
  }

  const data = readData(files.get(DATA_FILE), limits.maxJsonDepth);
  assertDataWithinRoots(data, manifest.roots);
  const merged = mergeParams(data, options.params ?? {}, limits.maxJsonDepth);

  let module: WasmModule;
  try {
    module = await compileWasm(wasmBytes);
  } catch (err) {
    throw new PolicyError(
      'BUNDLE_WASM_INVALID',
      `/${WASM_FILE} is not a valid wasm module: ${describeThrown(err)}`,
      err,
    );
  }

  // A throwaway instance answers which entrypoints and host builtins the module has.
  const probe = instantiate(module, undefined, {
    initialPages: DEFAULT_EVALUATION_LIMITS.initialMemoryPages,
    maxPages: DEFAULT_EVALUATION_LIMITS.maxMemoryPages,
  });
  const builtins = requiredBuiltins(probe);
  const missing = unsupportedBuiltins(builtins);
  if (missing.length > 0) {
    throw new PolicyError(
      'BUILTIN_UNSUPPORTED',
      `policy needs builtin${missing.length > 1 ? 's' : ''} provgate does not supply: ${missing.join(', ')}`,
    );
  }

  return {
    revision: manifest.revision,
    digest: fileSetDigest(files),
    manifest,
    ...(signature === undefined ? {} : { signature }),
    files: [...files.keys()].sort(),
    requiredBuiltins: builtins,
    module,
    data: exactArrayBuffer(new TextEncoder().encode(JSON.stringify(merged))),
  };
}

/** The digest a LoadedBundle reports for a file set. */
export function fileSetDigest(files: BundleFiles): string {
  const hash = createHash('sha256');
  for (const path of [...files.keys()].sort()) {
    const content = createHash('sha256')
      .update(files.get(path) as Uint8Array)
      .digest('hex');
    hash.update(`${path}\0${content}\n`);
  }
  return `sha256:${hash.digest('hex')}`;
}

// A file set handed over directly (from a directory, or a test) gets the same checks as an archive's.
function checkFiles(input: BundleFiles, limits: BundleLimits): BundleFiles {
  const files = new FileCollector(limits);
  for (const [path, bytes] of input) {
    files.countEntry();
    if (normalizeBundlePath(path, limits) !== path) {
      throw new PolicyError(
        'BUNDLE_PATH_INVALID',
        `bundle path ${JSON.stringify(path)} is not in normal form`,
      );
    }
    files.add(path, bytes);
  }
  return files.result();
}

// The files `opa build -t wasm` writes. Anything else (nested data files,
// plans, patches, stray files) would be ignored by the engine yet could carry
// meaning to OPA, so it is refused rather than silently skipped.
function assertKnownFile(path: string): void {
  if (
    path === WASM_FILE ||
    path === MANIFEST_FILE ||
    path === DATA_FILE ||
    path === SIGNATURES_FILE
  )
    return;
  if (path.endsWith('.rego')) return; // sources opa build includes; covered by the signature
  throw new PolicyError(
    'BUNDLE_UNEXPECTED_FILE',
    `bundle file ${path} is not one provgate uses (/${WASM_FILE}, /${DATA_FILE}, /${MANIFEST_FILE}, /${SIGNATURES_FILE}, *.rego)`,
  );
}

function readData(bytes: Uint8Array | undefined, maxDepth: number): JsonObject {
  if (bytes === undefined) return {};
  const data = decodeJsonFile(bytes, DATA_FILE, maxDepth, 'BUNDLE_DATA_INVALID');
  if (!isJsonObject(data)) {
    throw new PolicyError('BUNDLE_DATA_INVALID', `/${DATA_FILE} must hold a JSON object`);
  }
  return data;
}
