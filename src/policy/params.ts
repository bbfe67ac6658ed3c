// provgate's configuration parameters (allowed sources, branches, builders...)
// reach Rego as data, merged over the defaults a bundle ships in its data.json:
//
//   data.provgate.params     <- deepMerge(bundle data.json's provgate.params, configured params)
//
// Objects merge key by key, recursively; anywhere else (arrays, strings,
// numbers) the configured value replaces the bundle's. A policy reads e.g.
// `data.provgate.params.allowed_sources`.

import { PolicyError } from './error.ts';
import { assertJsonValue, isJsonObject, type JsonObject, type JsonValue } from './json.ts';

/** The data path under which configured parameters appear to policies, as segments. */
export const PARAMS_DATA_PATH: readonly ['provgate', 'params'] = ['provgate', 'params'];

/** The Rego reference of the parameters, for documentation and error messages. */
export function paramsDataPath(): string {
  return `data.${PARAMS_DATA_PATH.join('.')}`;
}

/** Returns `data` with `params` merged under data.provgate.params; neither argument is changed. */
export function mergeParams(data: JsonObject, params: unknown, maxDepth: number): JsonObject {
  if (!isJsonObject(params)) {
    throw new PolicyError('PARAMS_INVALID', 'configured policy parameters must be a JSON object');
  }
  assertJsonValue(params, 'params', maxDepth, 'PARAMS_INVALID');

  const [ns, key] = PARAMS_DATA_PATH;
  const provgate = data[ns] ?? {};
  if (!isJsonObject(provgate)) {
    throw new PolicyError(
      'PARAMS_INVALID',
      `bundle data.${ns} is not an object; parameters cannot be merged under ${paramsDataPath()}`,
    );
  }
  const defaults = provgate[key] ?? {};
  if (!isJsonObject(defaults)) {
    throw new PolicyError(
      'PARAMS_INVALID',
      `bundle ${paramsDataPath()} is not an object; parameters cannot be merged into it`,
    );
  }
  const merged = deepMerge(defaults, params);
  return withEntry(data, ns, withEntry(provgate, key, merged));
}

/** Objects merge recursively; otherwise `override` wins. */
export function deepMerge(base: JsonValue, override: JsonValue): JsonValue {
  if (!isJsonObject(base) || !isJsonObject(override)) return override;
  const keys = new Set([...Object.keys(base), ...Object.keys(override)]);
  // Object.fromEntries defines properties: a "__proto__" key stays an own key.
  return Object.fromEntries<JsonValue>(
    [...keys].map((k) => {
      const o = Object.hasOwn(override, k) ? override[k] : undefined;
      const b = Object.hasOwn(base, k) ? base[k] : undefined;
      if (o === undefined) return [k, b as JsonValue];
      if (b === undefined) return [k, o];
      return [k, deepMerge(b, o)];
    }),
  );
}

function withEntry(obj: JsonObject, key: string, value: JsonValue): JsonObject {
  return Object.fromEntries([...Object.entries(obj).filter(([k]) => k !== key), [key, value]]);
}
