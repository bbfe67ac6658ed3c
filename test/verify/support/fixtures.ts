// Shared by the verify tests: one artifact and a statement naming it, trust
// material for a test PKI, a one-call verify, and small helpers to break a
// copy of a valid bundle.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buildTrustMaterial, type TrustMaterial } from '../../../src/trust/index.ts';
import {
  isVerificationError,
  parseAttestations,
  verifyAttestation,
  type Artifact,
  type VerificationErrorCode,
  type VerifiedAttestation,
  type VerifyOptions,
} from '../../../src/verify/index.ts';
import { inTotoStatement, type SerializedTrustedRoot, type TestPki } from '../../support/pki.ts';

export const ARTIFACT = Buffer.from('provgate test artifact\n');
export const SHA256 = createHash('sha256').update(ARTIFACT).digest('hex');
export const SHA512 = createHash('sha512').update(ARTIFACT).digest('hex');

/** The artifact as a file: its bytes (and, as the CLI gives it, its sha256). */
export const BYTES: Artifact = { bytes: ARTIFACT, digests: { sha256: SHA256 } };
/** The artifact as an admission request gives it: a digest only. */
export const DIGEST_SHA256: Artifact = { digests: { sha256: SHA256 } };
export const DIGEST_SHA512: Artifact = { digests: { sha512: SHA512 } };

export const OTHER_ARTIFACT = Buffer.from('some other artifact\n');

export const SUBJECT_NAME = 'pkg:generic/provgate-test@1.0.0';
export const PREDICATE_TYPE = 'https://example.com/test-predicate/v1';
/** An in-toto v1 statement whose one subject is ARTIFACT (sha256 and sha512). */
export const STATEMENT = inTotoStatement(
  [{ name: SUBJECT_NAME, digest: { sha256: SHA256, sha512: SHA512 } }],
  PREDICATE_TYPE,
  { purpose: 'test' },
);

/** Trusts `root` (default: the PKI's own) and every key the PKI has made so far, by hint. */
export function trustFor(
  pki: TestPki,
  root: SerializedTrustedRoot = pki.trustedRoot,
): TrustMaterial {
  return buildTrustMaterial({
    trustedRoots: [root],
    keys: Object.entries(pki.publicKeys).map(([keyId, k]) => ({ keyId, pem: k.pem })),
  });
}

/** Parses a document holding exactly one attestation and verifies it. */
export function verifyDocument(
  doc: string | Uint8Array | object,
  trust: TrustMaterial,
  artifact: Artifact,
  options: VerifyOptions,
): VerifiedAttestation {
  const input = typeof doc === 'string' || doc instanceof Uint8Array ? doc : JSON.stringify(doc);
  const attestations = parseAttestations(input);
  assert.equal(attestations.length, 1);
  return verifyAttestation(attestations[0]!, artifact, trust, options);
}

/** The function throws a VerificationError with `code` (never another exception). */
export function assertCode(fn: () => unknown, code: VerificationErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isVerificationError(err), `expected a VerificationError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/** Returns normally or throws a VerificationError; anything else is rethrown. */
export function onlyCodedErrors(fn: () => unknown): boolean {
  try {
    fn();
  } catch (err) {
    if (!isVerificationError(err)) throw err;
  }
  return true;
}

/** Flips the low bit of byte `index` (negative: from the end) of base64 data. */
export function flipBase64(b64: string, index = -1): string {
  const bytes = Buffer.from(b64, 'base64');
  const i = index < 0 ? bytes.length + index : index;
  bytes[i] = bytes[i]! ^ 0x01;
  return bytes.toString('base64');
}

export function base64(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64');
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

export type JsonPath = readonly (string | number)[];

/** The value at `path` in a parsed JSON document (undefined when absent). */
export function getAt(doc: unknown, path: JsonPath): unknown {
  let node = doc;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** Sets (or, with `undefined`, deletes) the value at `path`, which must exist up to its parent. */
export function setAt(doc: unknown, path: JsonPath, value: unknown): void {
  const parent = getAt(doc, path.slice(0, -1));
  assert.ok(typeof parent === 'object' && parent !== null, `no parent for ${path.join('.')}`);
  const key = path.at(-1)!;
  const obj = parent as Record<string | number, unknown>;
  if (value === undefined) {
    if (Array.isArray(obj) && typeof key === 'number') obj.splice(key, 1);
    else delete obj[key];
  } else {
    obj[key] = value;
  }
}
