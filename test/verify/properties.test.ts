// Property tests (fast-check): whatever the input, parseAttestations and
// verifyAttestation return a result or throw a VerificationError, never any
// other exception; and no single-byte change to what a bundle signs or logs
// ever verifies.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { SerializedBundle } from '@sigstore/bundle';
import type { TrustMaterial } from '../../src/trust/index.ts';
import {
  isVerificationError,
  parseAttestations,
  verifyAttestation,
  type Artifact,
} from '../../src/verify/index.ts';
import { createTestPki, IN_TOTO_PAYLOAD_TYPE, type TestPki } from '../support/pki.ts';
import {
  ARTIFACT,
  base64,
  BYTES,
  clone,
  DIGEST_SHA256,
  getAt,
  onlyCodedErrors,
  setAt,
  STATEMENT,
  trustFor,
  type JsonPath,
} from './support/fixtures.ts';

const RUNS = 200;

let pki: TestPki;
let trust: TrustMaterial;
/** Valid documents of every kind, each verifying against ARTIFACT. */
let documents: { name: string; doc: object; bytesOnly: boolean }[];

/** Parses and verifies every attestation found; returns how many verified. */
function parseAndVerify(input: string | Uint8Array, artifact: Artifact): number {
  let verified = 0;
  for (const attestation of parseAttestations(input)) {
    verifyAttestation(attestation, artifact, trust, { now: pki.now });
    verified++;
  }
  return verified;
}

// The same, asserting that nothing but a VerificationError escapes (fast-check
// reports the input that made anything else escape).
function returnsOrThrowsCoded(input: string | Uint8Array, artifact: Artifact = BYTES): boolean {
  return onlyCodedErrors(() => parseAndVerify(input, artifact));
}

/** Every path in a JSON document, parents before children. */
function allPaths(doc: unknown, prefix: JsonPath = []): JsonPath[] {
  if (typeof doc !== 'object' || doc === null) return [];
  const keys = Array.isArray(doc) ? doc.map((_, i) => i) : Object.keys(doc);
  return keys.flatMap((key) => {
    const path = [...prefix, key];
    return [path, ...allPaths((doc as Record<string | number, unknown>)[key], path)];
  });
}

// Fields that hold base64: bundle bytes fields, DSSE payload and signatures.
const BASE64_KEYS = new Set([
  'signature',
  'digest',
  'rawBytes',
  'keyId',
  'canonicalizedBody',
  'signedEntryTimestamp',
  'rootHash',
  'signedTimestamp',
  'payload',
  'sig',
]);

function base64Paths(doc: unknown): JsonPath[] {
  return allPaths(doc).filter((path) => {
    const key = path.at(-1);
    const isBase64Key = typeof key === 'string' ? BASE64_KEYS.has(key) : path.at(-2) === 'hashes';
    return isBase64Key && typeof getAt(doc, path) === 'string';
  });
}

function stringPaths(doc: unknown): JsonPath[] {
  return allPaths(doc).filter((path) => typeof getAt(doc, path) === 'string');
}

/** A copy of `doc` with byte `index` (mod its length) of the base64 field at `path` XORed with `mask`. */
function flipped(doc: object, path: JsonPath, index: number, mask: number): object {
  const copy = clone(doc);
  const bytes = Buffer.from(getAt(copy, path) as string, 'base64');
  if (bytes.length > 0) bytes[index % bytes.length] = bytes[index % bytes.length]! ^ mask;
  setAt(copy, path, base64(bytes));
  return copy;
}

/** One of the valid documents, and an artifact it can be checked against. */
const documentArb = () =>
  fc.nat().chain((i) => {
    const d = documents[i % documents.length]!;
    return fc.record({
      entry: fc.constant(d),
      artifact: d.bytesOnly ? fc.constant(BYTES) : fc.constantFrom(BYTES, DIGEST_SHA256),
    });
  });

describe('parseAttestations and verifyAttestation', () => {
  before(async () => {
    pki = await createTestPki();
    trust = trustFor(pki);
    const opts = { timestamp: true } as const;
    const bundles: [string, Promise<SerializedBundle>, boolean][] = [
      ['v0.3 message, keyless, Rekor v1 + TSA', pki.signMessage(ARTIFACT, opts), false],
      [
        'v0.1 message, P-256 key, SET only',
        pki.signMessage(ARTIFACT, {
          bundleVersion: '0.1',
          proof: 'inclusion-promise',
          signer: { key: 'ecdsa-p256' },
        }),
        false,
      ],
      [
        'v0.3 message, Ed25519 key, Rekor v2',
        pki.signMessage(ARTIFACT, { tlog: 'rekor-v2', signer: { key: 'ed25519' } }),
        true,
      ],
      [
        'v0.2 DSSE, keyless full chain, intoto',
        pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, {
          bundleVersion: '0.2',
          fullChain: true,
          entryKind: 'intoto',
        }),
        false,
      ],
      [
        'v0.3 DSSE, RSA key, Rekor v2',
        pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, { tlog: 'rekor-v2', signer: { key: 'rsa' } }),
        false,
      ],
      [
        'v0.3 DSSE, keyless, Rekor v2',
        pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, { tlog: 'rekor-v2' }),
        false,
      ],
    ];
    documents = [];
    for (const [name, bundle, bytesOnly] of bundles) {
      documents.push({ name, doc: await bundle, bytesOnly });
    }
    documents.push({
      name: 'bare envelope, P-384 key',
      doc: pki.signEnvelope(STATEMENT, IN_TOTO_PAYLOAD_TYPE, { key: 'ecdsa-p384' }, 'sha384'),
      bytesOnly: false,
    });
    documents.push({
      name: 'npm attestations document',
      doc: {
        attestations: [
          { predicateType: 'https://example.com/test-predicate/v1', bundle: documents[3]!.doc },
        ],
      },
      bytesOnly: false,
    });
    // The properties below are only meaningful if every document verifies unchanged.
    for (const { name, doc } of documents) {
      assert.equal(parseAndVerify(JSON.stringify(doc), BYTES) > 0, true, name);
    }
  });

  describe('when the input is arbitrary bytes', () => {
    it('returns or throws a VerificationError', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => returnsOrThrowsCoded(bytes)),
        { numRuns: 300 },
      );
    });

    it('returns or throws a VerificationError for arbitrary text', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 2048 }), (text) =>
          returnsOrThrowsCoded(text),
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('when the input is arbitrary JSON', () => {
    it('returns or throws a VerificationError', () => {
      fc.assert(
        fc.property(fc.json({ maxDepth: 8 }), (text) => returnsOrThrowsCoded(text)),
        { numRuns: 300 },
      );
    });

    it('returns or throws a VerificationError for bundle-shaped JSON', () => {
      // A bundle's keys with arbitrary values: reaches past the top-level shape checks.
      const field = fc.jsonValue({ maxDepth: 3 });
      const mediaType = fc.constantFrom(
        'application/vnd.dev.sigstore.bundle+json;version=0.1',
        'application/vnd.dev.sigstore.bundle+json;version=0.2',
        'application/vnd.dev.sigstore.bundle.v0.3+json',
      );
      const bundle = fc.record(
        {
          mediaType,
          verificationMaterial: fc.record(
            {
              certificate: fc.record({ rawBytes: fc.oneof(fc.base64String(), field) }),
              publicKey: fc.record({ hint: fc.oneof(fc.string(), field) }),
              tlogEntries: fc.oneof(fc.array(field, { maxLength: 3 }), field),
              timestampVerificationData: field,
            },
            { requiredKeys: [] },
          ),
          messageSignature: fc.record(
            { signature: fc.oneof(fc.base64String(), field), messageDigest: field },
            { requiredKeys: [] },
          ),
          dsseEnvelope: fc.record(
            {
              payload: fc.oneof(fc.base64String(), field),
              payloadType: fc.oneof(fc.constant(IN_TOTO_PAYLOAD_TYPE), field),
              signatures: fc.oneof(fc.array(field, { maxLength: 3 }), field),
            },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: ['mediaType'] },
      );
      fc.assert(
        fc.property(bundle, (b) => returnsOrThrowsCoded(JSON.stringify(b))),
        { numRuns: 300 },
      );
    });
  });

  describe('when a valid document is mutated', () => {
    it('returns or throws a VerificationError after a byte flip in any base64 field', () => {
      const mutation = documentArb().chain(({ entry, artifact }) =>
        fc.record({
          doc: fc.constant(entry.doc),
          artifact: fc.constant(artifact),
          path: fc.constantFrom(...base64Paths(entry.doc)),
          index: fc.nat(),
          mask: fc.integer({ min: 1, max: 255 }),
        }),
      );
      fc.assert(
        fc.property(mutation, ({ doc, artifact, path, index, mask }) =>
          returnsOrThrowsCoded(JSON.stringify(flipped(doc, path, index, mask)), artifact),
        ),
        { numRuns: RUNS },
      );
    });

    it('returns or throws a VerificationError after any field is deleted or replaced', () => {
      const mutation = documentArb().chain(({ entry, artifact }) =>
        fc.record({
          doc: fc.constant(entry.doc),
          artifact: fc.constant(artifact),
          path: fc.constantFrom(...allPaths(entry.doc)),
          // undefined deletes the field.
          value: fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 })),
        }),
      );
      fc.assert(
        fc.property(mutation, ({ doc, artifact, path, value }) => {
          const copy = clone(doc);
          setAt(copy, path, value);
          return returnsOrThrowsCoded(JSON.stringify(copy), artifact);
        }),
        { numRuns: RUNS },
      );
    });

    it('returns or throws a VerificationError after any string is changed', () => {
      const mutation = documentArb().chain(({ entry, artifact }) =>
        fc.record({
          doc: fc.constant(entry.doc),
          artifact: fc.constant(artifact),
          path: fc.constantFrom(...stringPaths(entry.doc)),
          edit: fc.oneof(
            fc.record({
              kind: fc.constant('replace' as const),
              text: fc.string({ unit: 'binary' }),
            }),
            fc.record({
              kind: fc.constant('insert' as const),
              at: fc.nat(),
              text: fc.string({ minLength: 1, maxLength: 4 }),
            }),
            fc.record({
              kind: fc.constant('cut' as const),
              at: fc.nat(),
              length: fc.integer({ min: 1, max: 8 }),
            }),
          ),
        }),
      );
      fc.assert(
        fc.property(mutation, ({ doc, artifact, path, edit }) => {
          const copy = clone(doc);
          const old = getAt(copy, path) as string;
          const at = edit.kind === 'replace' ? 0 : edit.at % (old.length + 1);
          const changed =
            edit.kind === 'replace'
              ? edit.text
              : edit.kind === 'insert'
                ? old.slice(0, at) + edit.text + old.slice(at)
                : old.slice(0, at) + old.slice(at + edit.length);
          setAt(copy, path, changed);
          return returnsOrThrowsCoded(JSON.stringify(copy), artifact);
        }),
        { numRuns: RUNS },
      );
    });

    it('returns or throws a VerificationError after a string becomes an Object.prototype property name', () => {
      const mutation = documentArb().chain(({ entry, artifact }) =>
        fc.record({
          doc: fc.constant(entry.doc),
          artifact: fc.constant(artifact),
          path: fc.constantFrom(...stringPaths(entry.doc)),
          name: fc.constantFrom(
            '__proto__',
            'constructor',
            'toString',
            'valueOf',
            'hasOwnProperty',
          ),
        }),
      );
      fc.assert(
        fc.property(mutation, ({ doc, artifact, path, name }) => {
          const copy = clone(doc);
          setAt(copy, path, name);
          return returnsOrThrowsCoded(JSON.stringify(copy), artifact);
        }),
        {
          numRuns: RUNS,
          examples: [
            [
              {
                doc: documents[0]!.doc,
                artifact: BYTES,
                path: ['messageSignature', 'messageDigest', 'algorithm'],
                name: 'toString',
              },
            ],
          ],
        },
      );
    });
  });

  describe('when one byte of what a bundle signs or logs changes', () => {
    // Signature, payload (or message digest), certificate, tlog body: each is
    // covered by a signature, so any change must be caught.
    const TARGETS: [string, JsonPath[]][] = [
      [
        'the signature',
        [
          ['messageSignature', 'signature'],
          ['dsseEnvelope', 'signatures', 0, 'sig'],
          ['signatures', 0, 'sig'],
        ],
      ],
      [
        'the payload or message digest',
        [['messageSignature', 'messageDigest', 'digest'], ['dsseEnvelope', 'payload'], ['payload']],
      ],
      [
        'the certificate',
        [
          ['verificationMaterial', 'certificate', 'rawBytes'],
          ['verificationMaterial', 'x509CertificateChain', 'certificates', 0, 'rawBytes'],
        ],
      ],
      ['the tlog body', [['verificationMaterial', 'tlogEntries', 0, 'canonicalizedBody']]],
    ];
    for (const [what, targets] of TARGETS) {
      it(`never verifies after a change to ${what}`, () => {
        const pathsOf = (doc: object) => targets.filter((p) => typeof getAt(doc, p) === 'string');
        const candidates = documents.filter((d) => pathsOf(d.doc).length > 0);
        const mutation = fc.nat().chain((i) => {
          const entry = candidates[i % candidates.length]!;
          return fc.record({
            doc: fc.constant(entry.doc),
            artifact: entry.bytesOnly ? fc.constant(BYTES) : fc.constantFrom(BYTES, DIGEST_SHA256),
            path: fc.constantFrom(...pathsOf(entry.doc)),
            index: fc.nat(),
            mask: fc.integer({ min: 1, max: 255 }),
          });
        });
        fc.assert(
          fc.property(mutation, ({ doc, artifact, path, index, mask }) => {
            const input = JSON.stringify(flipped(doc, path, index, mask));
            assert.throws(
              () => parseAndVerify(input, artifact),
              (err: unknown) => isVerificationError(err),
            );
          }),
          { numRuns: 150 },
        );
      });
    }
  });
});
