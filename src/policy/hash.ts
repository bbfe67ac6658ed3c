// File digests as OPA computes them for bundle signatures (v1/bundle/hash.go,
// v1/bundle/verify.go VerifyBundleFile):
// - a structured file (base name data.json or .manifest) is parsed and hashed
//   in a canonical form, so whitespace and key order do not matter: objects as
//   `{` key `:` value `,` ... `}` with keys sorted bytewise, arrays as
//   `[` v `,` ... `]`, strings as Go's encoding/json writes them with HTML
//   escaping off, numbers as their source text (json.Decoder.UseNumber);
// - every other file is hashed as its bytes.

import { createHash } from 'node:crypto';

import { RawNumber, decodeJsonFileRaw, type RawJsonValue } from './json.ts';

export type HashAlgorithm = 'SHA-256' | 'SHA-384' | 'SHA-512';

const NODE_HASH: Readonly<Record<HashAlgorithm, string>> = {
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

export function isHashAlgorithm(name: string): name is HashAlgorithm {
  return Object.hasOwn(NODE_HASH, name);
}

/** OPA's IsStructuredDoc, for the file kinds a provgate bundle may hold. */
export function isStructuredFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base === 'data.json' || base === '.manifest';
}

/** The digest OPA lists for `path` in a bundle signature. */
export function hashBundleFile(
  path: string,
  bytes: Uint8Array,
  algorithm: HashAlgorithm,
  maxJsonDepth: number,
): Buffer {
  const hash = createHash(NODE_HASH[algorithm]);
  if (isStructuredFile(path)) {
    const code = path.endsWith('.manifest') ? 'MANIFEST_INVALID' : 'BUNDLE_DATA_INVALID';
    const value = decodeJsonFileRaw(bytes, path, maxJsonDepth, code);
    hash.update(canonicalJson(value), 'utf8');
  } else {
    hash.update(bytes);
  }
  return hash.digest();
}

/** OPA's canonical text of a JSON value (the input to its structured-file hash). */
export function canonicalJson(value: RawJsonValue): string {
  const out: string[] = [];
  write(value, out);
  return out.join('');
}

function write(value: RawJsonValue, out: string[]): void {
  if (value === null) {
    out.push('null');
  } else if (typeof value === 'boolean') {
    out.push(value ? 'true' : 'false');
  } else if (typeof value === 'string') {
    out.push(goJsonString(value));
  } else if (value instanceof RawNumber) {
    out.push(value.text);
  } else if (Array.isArray(value)) {
    out.push('[');
    value.forEach((v, i) => {
      if (i > 0) out.push(',');
      write(v, out);
    });
    out.push(']');
  } else {
    // Go decodes a lone surrogate to U+FFFD, so two keys may become one: last wins, as in a Go map.
    const entries = new Map<string, RawJsonValue>();
    for (const [k, v] of Object.entries(value)) entries.set(toWellFormed(k), v);
    const keys = [...entries.keys()].sort(compareUtf8);
    out.push('{');
    keys.forEach((k, i) => {
      if (i > 0) out.push(',');
      out.push(goJsonString(k), ':');
      write(entries.get(k) as RawJsonValue, out);
    });
    out.push('}');
  }
}

// Go sorts map keys as byte strings; UTF-8 byte order is code point order,
// which UTF-16 comparison breaks for astral characters.
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x5c: '\\\\',
};

/** A string as Go's encoding/json (1.22+) encodes it with SetEscapeHTML(false). */
export function goJsonString(s: string): string {
  const text = toWellFormed(s);
  let out = '"';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let escaped: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c) {
      escaped = SHORT_ESCAPES[c] ?? `\\u00${c.toString(16).padStart(2, '0')}`;
    } else if (c === 0x2028 || c === 0x2029) {
      escaped = `\\u${c.toString(16)}`;
    }
    if (escaped !== undefined) {
      out += text.slice(start, i) + escaped;
      start = i + 1;
    }
  }
  return out + text.slice(start) + '"';
}

// String.prototype.toWellFormed (ES2024): a lone surrogate becomes U+FFFD, as Go's JSON decoder makes it.
function toWellFormed(s: string): string {
  return s.replace(
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD',
  );
}
