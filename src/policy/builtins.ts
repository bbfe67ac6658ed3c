// Builtins the host supplies to a policy compiled with `opa build -t wasm`.
// The wasm module implements most builtins itself and imports the rest by
// name (its `builtins` export lists them); a bundle needing one that neither
// provgate nor the opa-wasm SDK supplies is refused at load time.
//
// Semantics follow OPA's Go implementation (v1/topdown/*.go). A builtin error
// (a bad argument) yields undefined, as OPA's default non-strict evaluation
// does; a case provgate cannot compute the way OPA would (a named time zone)
// throws, which fails the evaluation and so denies.
//
// Values cross the wasm boundary as JSON text. opa-wasm parses arguments with
// JSON.parse, so an integer argument above 2^53 arrives rounded (a nanosecond
// timestamp keeps its value when it has at most 15 significant digits, e.g.
// millisecond precision). Results go back as JSON text (an ArrayBuffer), so
// large integers such as nanosecond timestamps are returned exactly.

import { compareSemver, parseSemver } from './semver.ts';
import { addDateNs, parseRfc3339Ns } from './time.ts';
import { regexReplace } from './regex.ts';
import { parseBytes } from './units.ts';
import { exactArrayBuffer } from './json.ts';

/** Per-evaluation context the host builtins read. */
export interface BuiltinContext {
  /** time.now_ns for the current evaluation: one fixed value, so an evaluation is deterministic. */
  nowNs: bigint;
}

export type HostBuiltin = (...args: unknown[]) => unknown;

/**
 * Builtins the opa-wasm SDK (v1.10) implements itself in JavaScript; it
 * consults them before ours, so provgate cannot replace them. They follow the
 * SDK's semantics, not always OPA's: its sprintf is sprintf-js, where `%v` of
 * an array prints `a,b` (OPA: `["a", "b"]`) and of an object `[object Object]`.
 */
export const SDK_BUILTINS: readonly string[] = [
  'json.is_valid',
  'sprintf',
  'regex.split',
  'yaml.is_valid',
  'yaml.marshal',
  'yaml.unmarshal',
];

/** Builtins provgate supplies. */
export const HOST_BUILTINS: readonly string[] = [
  'time.now_ns',
  'time.parse_rfc3339_ns',
  'time.add_date',
  'semver.compare',
  'semver.is_valid',
  'regex.replace',
  'glob.quote_meta',
  'units.parse_bytes',
];

/** The builtins a bundle requires that neither provgate nor the SDK supplies, sorted. */
export function unsupportedBuiltins(required: Iterable<string>): string[] {
  const supplied = new Set([...SDK_BUILTINS, ...HOST_BUILTINS]);
  return [...new Set(required)].filter((name) => !supplied.has(name)).sort();
}

/** The host builtin table for one instance, reading `context` at call time. */
export function createHostBuiltins(context: BuiltinContext): Record<string, HostBuiltin> {
  return {
    'time.now_ns': () => jsonInteger(context.nowNs),
    'time.parse_rfc3339_ns': (value) => {
      if (typeof value !== 'string') return undefined;
      return jsonInteger(parseRfc3339Ns(value));
    },
    'time.add_date': (t, years, months, days) => {
      const ns = timeOperand(t);
      if (ns === undefined || !isInt(years) || !isInt(months) || !isInt(days)) return undefined;
      return jsonInteger(addDateNs(ns, years, months, days));
    },
    'semver.compare': (a, b) => {
      if (typeof a !== 'string' || typeof b !== 'string') return undefined;
      const va = parseSemver(a);
      const vb = parseSemver(b);
      if (va === undefined || vb === undefined) return undefined;
      return compareSemver(va, vb);
    },
    'semver.is_valid': (v) => typeof v === 'string' && parseSemver(v) !== undefined,
    'regex.replace': (s, pattern, value) => {
      if (typeof s !== 'string' || typeof pattern !== 'string' || typeof value !== 'string') {
        return undefined;
      }
      return regexReplace(s, pattern, value);
    },
    'glob.quote_meta': (pattern) => {
      if (typeof pattern !== 'string') return undefined;
      // gobwas/glob QuoteMeta: * ? \ [ ] { } ("," "!" and "-" only matter inside them).
      return pattern.replace(/[*?\\[\]{}]/g, '\\$&');
    },
    'units.parse_bytes': (value) => {
      if (typeof value !== 'string') return undefined;
      return jsonInteger(parseBytes(value)); // throws for an exponent provgate does not compute
    },
  };
}

const encoder = new TextEncoder();

/** An integer as JSON text, which opa-wasm passes to the wasm parser unchanged (exact beyond 2^53). */
function jsonInteger(n: bigint | undefined): ArrayBuffer | undefined {
  if (n === undefined) return undefined;
  return exactArrayBuffer(encoder.encode(n.toString()));
}

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x);
}

const INT64_LIMIT = 2 ** 63;

// OPA's tzTime: a number of nanoseconds, or [ns, tz(, layout)] where only UTC
// ("" or "UTC") is computed here; another zone throws (see module comment).
function timeOperand(x: unknown): bigint | undefined {
  let ns: unknown = x;
  if (Array.isArray(x)) {
    if (x.length === 0) return undefined;
    ns = x[0];
    if (x.length > 1) {
      const tz: unknown = x[1];
      if (typeof tz !== 'string') return undefined;
      if (tz !== '' && tz !== 'UTC') {
        if (!isTimeZone(tz)) return undefined; // OPA: unknown time zone
        throw new Error(
          `time.add_date: time zone ${JSON.stringify(tz)} is not supported by provgate`,
        );
      }
    }
    if (x.length > 2 && typeof x[2] !== 'string') return undefined;
  }
  if (!isInt(ns) || Math.abs(ns) >= INT64_LIMIT) return undefined;
  // The shortest decimal that parses to this double: exact for inputs with at
  // most 15 significant digits (see module comment).
  return BigInt(Number.isSafeInteger(ns) ? ns : String(ns));
}

function isTimeZone(tz: string): boolean {
  if (tz === 'Local') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
