// JSON files inside a bundle (data.json, .manifest, .signatures.json): decoded
// with coded errors, strict UTF-8 and a nesting bound checked before parsing.
//
// Prototype pollution: JSON.parse defines a `__proto__` key as an own data
// property, and everything built from parsed values here uses
// Object.fromEntries (CreateDataProperty), never assignment into an object.

import { PolicyError, describeThrown, type PolicyErrorCode } from './error.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

// fatal: invalid UTF-8 is refused. A leading byte order mark is dropped, as OPA does.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes one JSON file of the bundle; `label` names it in error messages. */
export function decodeJsonFile(
  bytes: Uint8Array,
  label: string,
  maxDepth: number,
  code: PolicyErrorCode,
): unknown {
  const text = decodeUtf8(bytes, label, code);
  assertNestingDepth(text, maxDepth, label, code);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new PolicyError(code, `${label} is not valid JSON: ${describeThrown(err)}`, err);
  }
}

/** A JSON number kept as its source text, as Go's json.Decoder.UseNumber does. */
export class RawNumber {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

export type RawJsonValue =
  null | boolean | string | RawNumber | RawJsonValue[] | { [key: string]: RawJsonValue };

type Reviver = (key: string, value: unknown, context?: { source?: string }) => unknown;

/** Like decodeJsonFile, but numbers keep their source text (for OPA's signature hashing). */
export function decodeJsonFileRaw(
  bytes: Uint8Array,
  label: string,
  maxDepth: number,
  code: PolicyErrorCode,
): RawJsonValue {
  const text = decodeUtf8(bytes, label, code);
  assertNestingDepth(text, maxDepth, label, code);
  // JSON.parse source text access (Node >= 21) hands the reviver each primitive's source.
  const keepNumberText: Reviver = (_key, value, context) => {
    if (typeof value !== 'number') return value;
    if (typeof context?.source !== 'string') {
      throw new PolicyError(code, `${label}: this runtime does not expose JSON number source text`);
    }
    return new RawNumber(context.source);
  };
  try {
    return JSON.parse(text, keepNumberText as Parameters<typeof JSON.parse>[1]) as RawJsonValue;
  } catch (err) {
    if (err instanceof PolicyError) throw err;
    throw new PolicyError(code, `${label} is not valid JSON: ${describeThrown(err)}`, err);
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodeUtf8(bytes: Uint8Array, label: string, code: PolicyErrorCode): string {
  try {
    return UTF8.decode(bytes);
  } catch (err) {
    throw new PolicyError(code, `${label} is not valid UTF-8`, err);
  }
}

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

// One pass over the text, counting brackets outside strings: rejects a deep
// document before JSON.parse builds it.
function assertNestingDepth(
  text: string,
  maxDepth: number,
  label: string,
  code: PolicyErrorCode,
): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) {
        throw new PolicyError(code, `${label} is nested deeper than ${maxDepth} levels`);
      }
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
}

/** Checks that a value is plain JSON (what JSON.stringify would keep unchanged), naming the first offending path. */
export function assertJsonValue(
  value: unknown,
  path: string,
  maxDepth: number,
  code: PolicyErrorCode,
  depth = 1,
): asserts value is JsonValue {
  if (depth > maxDepth) throw new PolicyError(code, `${path} is nested deeper than ${maxDepth}`);
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new PolicyError(code, `${path} is not a finite number`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertJsonValue(v, `${path}[${i}]`, maxDepth, code, depth + 1));
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new PolicyError(code, `${path} is not a plain JSON object`);
    }
    for (const [k, v] of Object.entries(value)) {
      assertJsonValue(v, `${path}.${k}`, maxDepth, code, depth + 1);
    }
    return;
  }
  throw new PolicyError(code, `${path} is a ${typeof value}, not a JSON value`);
}

/** An ArrayBuffer holding exactly the bytes of `bytes` (opa-wasm reads a whole ArrayBuffer). */
export function exactArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const { buffer } = bytes;
  if (
    buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength
  ) {
    return buffer;
  }
  return bytes.slice().buffer;
}
