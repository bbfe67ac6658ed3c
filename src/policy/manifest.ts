// The bundle manifest (/.manifest, OPA's bundle.Manifest): revision, roots and
// the wasm module that serves each entrypoint. Checked the way OPA's
// Manifest.validateAndInjectDefaults checks it, plus provgate's own needs: the
// wasm module must serve `provgate/decision`.

import { PolicyError } from './error.ts';
import { isJsonObject, type JsonObject } from './json.ts';

/** The entrypoint provgate evaluates. */
export const DECISION_ENTRYPOINT = 'provgate/decision';

/** The one wasm module a provgate bundle holds, as the manifest names it. */
export const WASM_MODULE_PATH = '/policy.wasm';

const MAX_REVISION_LENGTH = 512;

export interface WasmResolver {
  readonly entrypoint: string;
  readonly module: string;
}

export interface Manifest {
  /** The bundle author's revision string (may be empty). */
  readonly revision: string;
  /** Data paths the bundle owns, without leading or trailing slashes ("" owns everything). */
  readonly roots: readonly string[];
  readonly wasm: readonly WasmResolver[];
  readonly regoVersion?: number;
  readonly metadata?: JsonObject;
}

/** Validates a parsed manifest; errors name the failing field. */
export function parseManifest(value: unknown): Manifest {
  if (!isJsonObject(value)) fail('.manifest must be a JSON object');

  const revision = value['revision'] ?? '';
  if (typeof revision !== 'string') fail('manifest.revision must be a string');
  if (revision.length > MAX_REVISION_LENGTH) {
    fail(`manifest.revision is longer than ${MAX_REVISION_LENGTH} characters`);
  }

  const rawRoots = value['roots'] ?? [''];
  if (!Array.isArray(rawRoots)) fail('manifest.roots must be an array of strings');
  const roots = rawRoots.map((r, i) => {
    if (typeof r !== 'string') fail(`manifest.roots[${i}] must be a string`);
    return trimSlashes(r);
  });
  for (let i = 0; i < roots.length; i++) {
    for (let j = i + 1; j < roots.length; j++) {
      if (rootPathsOverlap(roots[i] as string, roots[j] as string)) {
        fail(`manifest has overlapping roots '${roots[i]}' and '${roots[j]}'`);
      }
    }
  }

  const rawWasm = value['wasm'] ?? [];
  if (!Array.isArray(rawWasm)) fail('manifest.wasm must be an array');
  const seen = new Set<string>();
  const wasm = rawWasm.map((w, i): WasmResolver => {
    if (!isJsonObject(w)) fail(`manifest.wasm[${i}] must be an object`);
    const { entrypoint, module } = w;
    if (typeof entrypoint !== 'string' || entrypoint === '') {
      fail(`manifest.wasm[${i}].entrypoint must be a non-empty string`);
    }
    if (typeof module !== 'string' || module === '') {
      fail(`manifest.wasm[${i}].module must be a non-empty string`);
    }
    if (module !== WASM_MODULE_PATH) {
      fail(
        `manifest.wasm[${i}].module is ${module}; provgate runs a single module at ${WASM_MODULE_PATH}`,
      );
    }
    if (!rootPathsContain(roots, entrypoint)) {
      fail(`manifest roots [${roots.join(', ')}] do not permit entrypoint '${entrypoint}'`);
    }
    if (seen.has(entrypoint)) fail(`manifest lists entrypoint '${entrypoint}' twice`);
    seen.add(entrypoint);
    return { entrypoint, module };
  });
  if (!seen.has(DECISION_ENTRYPOINT)) {
    throw new PolicyError(
      'ENTRYPOINT_MISSING',
      `manifest does not list the wasm entrypoint ${DECISION_ENTRYPOINT} (build with: opa build -t wasm -e ${DECISION_ENTRYPOINT})`,
    );
  }

  const regoVersion = value['rego_version'];
  if (regoVersion !== undefined && !Number.isInteger(regoVersion)) {
    fail('manifest.rego_version must be an integer');
  }
  const metadata = value['metadata'];
  if (metadata !== undefined && !isJsonObject(metadata))
    fail('manifest.metadata must be an object');

  return {
    revision,
    roots,
    wasm,
    ...(regoVersion === undefined ? {} : { regoVersion: regoVersion as number }),
    ...(metadata === undefined ? {} : { metadata }),
  };
}

/**
 * OPA refuses a bundle whose data lies outside its roots (the roots say which
 * parts of `data` the bundle owns). Walks data.json like OPA's dfs check.
 */
export function assertDataWithinRoots(data: JsonObject, roots: readonly string[]): void {
  const visit = (node: unknown, segments: readonly string[]): void => {
    if (roots.some((root) => rootContains(root, segments))) return;
    // Not owned yet: descend only through objects on the way to a root.
    if (isJsonObject(node) && roots.some((root) => isPrefix(segments, root.split('/')))) {
      for (const [key, child] of Object.entries(node)) visit(child, [...segments, key]);
      return;
    }
    fail(
      `manifest roots [${roots.join(', ')}] do not permit data at path '/${segments.join('/')}'`,
    );
  };
  visit(data, []);
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

// OPA's RootPathsContain: one of the roots is a segment-wise prefix of path.
function rootPathsContain(roots: readonly string[], path: string): boolean {
  const segments = path.split('/');
  return roots.some((root) => rootContains(root, segments));
}

function rootContains(root: string, other: readonly string[]): boolean {
  return root === '' || isPrefix(root.split('/'), other);
}

function isPrefix(prefix: readonly string[], path: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => s === path[i]);
}

// OPA's RootPathsOverlap: one is a segment-wise prefix of the other.
function rootPathsOverlap(a: string, b: string): boolean {
  const as = a === '' ? [] : a.split('/');
  const bs = b === '' ? [] : b.split('/');
  const n = Math.min(as.length, bs.length);
  for (let i = 0; i < n; i++) if (as[i] !== bs[i]) return false;
  return true;
}

function fail(message: string): never {
  throw new PolicyError('MANIFEST_INVALID', message);
}
