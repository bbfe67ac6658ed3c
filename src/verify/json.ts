// Decoding of attacker-controlled JSON and base64. Every failure is a coded
// VerificationError; nothing else (TypeError, RangeError, SyntaxError) escapes.
//
// Prototype pollution: JSON.parse defines a `__proto__` key as an ordinary own
// data property (CreateDataProperty), so a parsed document can neither change
// its own prototype nor Object.prototype. Consumers must keep it that way:
// copy parsed objects with spread or Object.fromEntries, never Object.assign or
// a deep merge into an existing object (those invoke the `__proto__` setter).

import { VerificationError } from './error.ts';

export interface JsonLimits {
  /** Largest accepted document, in UTF-8 bytes. */
  maxBytes: number;
  /** Deepest accepted nesting of arrays and objects; the top-level value is depth 1. */
  maxDepth: number;
}

/** Bounds for one document (a bundle, a DSSE payload): large enough for real provenance. */
export const DEFAULT_JSON_LIMITS: Readonly<JsonLimits> = Object.freeze({
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 64,
});

// fatal: invalid UTF-8 is an error, not U+FFFD. ignoreBOM: a byte order mark
// stays in the text and JSON.parse rejects it (RFC 8259 section 8.1: senders
// must not add one), so bytes and string input are judged alike.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Parses one JSON document after checking its size, its encoding and its
 * nesting depth. `label` names the document in error messages.
 */
export function parseJson(
  input: string | Uint8Array,
  limits: JsonLimits = DEFAULT_JSON_LIMITS,
  label = 'JSON document',
): unknown {
  // A UTF-16 code unit is at least one UTF-8 byte: `length` is a cheap lower bound.
  const size =
    typeof input === 'string'
      ? input.length > limits.maxBytes
        ? input.length
        : Buffer.byteLength(input, 'utf8')
      : input.byteLength;
  if (size > limits.maxBytes) {
    throw new VerificationError(
      'INPUT_TOO_LARGE',
      `${label} is over the limit of ${limits.maxBytes} bytes`,
    );
  }

  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = UTF8.decode(input);
    } catch (err) {
      throw new VerificationError('MALFORMED_JSON', `${label} is not valid UTF-8`, err);
    }
  }

  // JSON.parse has no depth limit; reject deep documents before building them.
  assertNestingDepth(text, limits.maxDepth, label);

  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const reason = err instanceof Error ? err.message : 'unparseable';
    throw new VerificationError('MALFORMED_JSON', `${label} is not valid JSON: ${reason}`, err);
  }
}

// One linear pass that counts brackets outside of strings. It does not validate
// JSON (JSON.parse does that next); it only bounds the depth JSON.parse will see.
function assertNestingDepth(text: string, maxDepth: number, label: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) {
        i++; // the escaped character cannot end the string
      } else if (c === QUOTE) {
        inString = false;
      }
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      depth++;
      if (depth > maxDepth) {
        throw new VerificationError(
          'NESTING_TOO_DEEP',
          `${label} nests deeper than ${maxDepth} levels (at offset ${i})`,
        );
      }
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
      if (depth < 0) {
        throw new VerificationError(
          'MALFORMED_JSON',
          `${label} is not valid JSON: unbalanced '${text[i]}' at offset ${i}`,
        );
      }
    }
  }
}

/**
 * Decodes strict RFC 4648 base64. Accepted: the standard alphabet or the
 * URL-safe one (DSSE and the protobuf JSON mapping allow both; Node decodes
 * both correctly), padded or unpadded. Rejected: mixed alphabets, whitespace
 * or any other character, wrong or excess padding, a dangling single
 * character, and non-zero trailing bits (so each byte string has one
 * encoding per alphabet). Node's own decoder silently skips junk, so the text
 * is validated first.
 */
export function decodeBase64(value: unknown, field: string): Buffer {
  if (typeof value !== 'string') {
    throw new VerificationError('BAD_BASE64', `${field} must be a base64 string`);
  }

  let dataLength = value.length;
  while (dataLength > 0 && value.charCodeAt(dataLength - 1) === 0x3d /* = */) {
    dataLength--;
  }
  const padding = value.length - dataLength;

  let standard = false;
  let urlSafe = false;
  let last = 0;
  for (let i = 0; i < dataLength; i++) {
    const c = value.charCodeAt(i);
    const sextet = base64Sextet(c);
    if (sextet === undefined) {
      throw new VerificationError(
        'BAD_BASE64',
        `${field} has a character outside the base64 alphabet at offset ${i}`,
      );
    }
    if (c === 0x2b || c === 0x2f) standard = true; // + /
    if (c === 0x2d || c === 0x5f) urlSafe = true; // - _
    last = sextet;
  }
  if (standard && urlSafe) {
    throw new VerificationError('BAD_BASE64', `${field} mixes the standard and URL-safe alphabets`);
  }

  const remainder = dataLength % 4;
  if (remainder === 1) {
    throw new VerificationError('BAD_BASE64', `${field} is truncated`);
  }
  if (padding > 0 && (padding > 2 || value.length % 4 !== 0)) {
    throw new VerificationError('BAD_BASE64', `${field} has incorrect padding`);
  }
  // 2 characters carry 1 byte (4 spare bits), 3 characters carry 2 (2 spare bits).
  const spareBits = remainder === 2 ? 0x0f : remainder === 3 ? 0x03 : 0;
  if ((last & spareBits) !== 0) {
    throw new VerificationError('BAD_BASE64', `${field} has non-zero trailing bits`);
  }

  return Buffer.from(value.slice(0, dataLength), 'base64');
}

function base64Sextet(c: number): number | undefined {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41; // A-Z
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26; // a-z
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52; // 0-9
  if (c === 0x2b || c === 0x2d) return 62; // + or -
  if (c === 0x2f || c === 0x5f) return 63; // / or _
  return undefined;
}

export interface JsonLine {
  /** 1-based line number in the original text, for error messages. */
  line: number;
  text: string;
}

/** Splits JSON Lines text into its non-blank lines (LF or CRLF endings). */
export function splitJsonLines(text: string): JsonLine[] {
  const lines: JsonLine[] = [];
  let start = 0;
  let line = 1;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const content = text.slice(start, end).replace(/\r$/, '');
    if (content.trim() !== '') {
      lines.push({ line, text: content });
    }
    start = end + 1;
    line++;
  }
  return lines;
}

// Shape-checking helpers shared by the verify/ parsers (not part of the folder's API).

/** A JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `statement.subject[2]`, `predicate.builder.id`, `digest["odd key"]`. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$-]*$/.test(key) && key.length <= 64
    ? `${path}.${key}`
    : `${path}[${describeValue(key)}]`;
}

/** A short, printable rendering of an attacker-controlled value for messages. */
export function describeValue(value: unknown, max = 80): string {
  let text: string;
  if (value === undefined) {
    text = 'undefined';
  } else if (typeof value === 'string') {
    text = JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
  } else if (Array.isArray(value)) {
    text = `an array of ${value.length}`;
  } else if (value === null) {
    text = 'null';
  } else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    text = String(value);
  } else {
    text = typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  }
  return text.length > max + 8 ? `${text.slice(0, max)}…` : text;
}
