import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { matchSubject, parseStatement } from '../../src/verify/intoto.ts';
import { splitJsonLines } from '../../src/verify/json.ts';
import type { InTotoStatement } from '../../src/verify/verify.types.ts';
import { assertCode, onlyCodedErrors } from './support/fixtures.ts';

// Real public bundles, see test/fixtures/SOURCES.md.
const FIXTURES = new URL('../fixtures/', import.meta.url);
const readFixture = (path: string): string => readFileSync(new URL(path, FIXTURES), 'utf8');

interface Bundle {
  dsseEnvelope?: { payload: string };
}

// The DSSE payload of each bundle in a fixture (.jsonl, npm .tgz.json or a single bundle).
function payloadsIn(path: string): Buffer[] {
  const text = readFixture(path);
  let bundles: Bundle[];
  if (path.endsWith('.jsonl')) {
    bundles = splitJsonLines(text).map(({ text }) => JSON.parse(text) as Bundle);
  } else if (path.endsWith('.tgz.json')) {
    bundles = (JSON.parse(text) as { attestations: { bundle: Bundle }[] }).attestations.map(
      (a) => a.bundle,
    );
  } else {
    bundles = [JSON.parse(text) as Bundle];
  }
  return bundles.map((b) => Buffer.from(b.dsseEnvelope!.payload, 'base64'));
}

const GENERIC_TAG = payloadsIn(
  'slsa-github-generator/generic-v2.1.0/binary-linux-amd64-push-v13.0.30.intoto.jsonl',
)[0]!;
const SIGSTORE_JS = payloadsIn('gh-attestation/sigstore-js-2.1.0-bundle.json')[0]!;
const NPM_PUBLISH = payloadsIn('npm-attestations/gundam-visor-cli-v1-tag.tgz.json')[0]!;

const GENERIC_SHA256 = '376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa';
const SIGSTORE_JS_SHA512 =
  '90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f';
const SHA256_A = 'a'.repeat(64);
const SHA512_B = 'b'.repeat(128);

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

// A valid v1 statement, changed by `edit` (a copy: the fixtures are never edited).
function statementWith(edit: (s: Record<string, unknown>) => void): Uint8Array {
  const statement: Record<string, unknown> = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'pkg:npm/x@1.0.0', digest: { sha256: SHA256_A } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { any: 'thing' },
  };
  edit(statement);
  return encode(statement);
}

const statement = (subject: InTotoStatement['subject']): InTotoStatement => ({
  type: 'https://in-toto.io/Statement/v1',
  subject,
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: {},
});

describe('intoto', () => {
  describe('#parseStatement', () => {
    describe('when the payload is a real v0.1 statement (slsa-github-generator)', () => {
      it('returns its type, subjects and predicate', () => {
        const parsed = parseStatement(GENERIC_TAG);
        assert.equal(parsed.type, 'https://in-toto.io/Statement/v0.1');
        assert.deepEqual(parsed.subject, [
          { name: 'gha_generic-binary-linux-amd64-v13.0.30', digest: { sha256: GENERIC_SHA256 } },
        ]);
        assert.equal(parsed.predicateType, 'https://slsa.dev/provenance/v0.2');
        assert.equal(
          (parsed.predicate as { builder: { id: string } }).builder.id,
          'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0',
        );
      });
    });

    describe('when the payload is a real v1 statement (GitHub attestation)', () => {
      it('returns its sha512 subject', () => {
        const parsed = parseStatement(SIGSTORE_JS);
        assert.equal(parsed.type, 'https://in-toto.io/Statement/v1');
        assert.deepEqual(parsed.subject, [
          { name: 'pkg:npm/sigstore@2.1.0', digest: { sha512: SIGSTORE_JS_SHA512 } },
        ]);
        assert.equal(parsed.predicateType, 'https://slsa.dev/provenance/v1');
      });
    });

    describe('when the payload is a real npm publish statement', () => {
      it('returns its predicate', () => {
        const parsed = parseStatement(NPM_PUBLISH);
        assert.equal(
          parsed.predicateType,
          'https://github.com/npm/attestation/tree/main/specs/publish/v0.1',
        );
        assert.deepEqual(parsed.predicate, {
          name: 'gundam-visor',
          version: '1.0.1',
          registry: 'https://registry.npmjs.org',
        });
      });
    });

    describe('when optional fields are absent', () => {
      it('returns an empty subject name and an undefined predicate', () => {
        const parsed = parseStatement(
          statementWith((s) => {
            s['subject'] = [{ digest: { sha256: SHA256_A } }];
            delete s['predicate'];
          }),
        );
        assert.equal(parsed.subject[0]!.name, '');
        assert.equal(parsed.predicate, undefined);
      });

      it('treats a null predicate as absent', () => {
        assert.equal(
          parseStatement(statementWith((s) => (s['predicate'] = null))).predicate,
          undefined,
        );
      });

      it('accepts digest algorithms it does not know', () => {
        const parsed = parseStatement(
          statementWith((s) => (s['subject'] = [{ name: 'x', digest: { dirHash: 'abcd' } }])),
        );
        assert.deepEqual(parsed.subject[0]!.digest, { dirHash: 'abcd' });
      });
    });

    describe('when a digest algorithm is named __proto__', () => {
      it('keeps it as an own key without touching the prototype', () => {
        const payload = new TextEncoder().encode(
          `{"_type":"https://in-toto.io/Statement/v1","predicateType":"t","subject":[{"name":"x","digest":{"__proto__":"abcd","sha256":"${SHA256_A}"}}]}`,
        );
        const digest = parseStatement(payload).subject[0]!.digest;
        assert.equal(Object.getPrototypeOf(digest), Object.prototype);
        assert.ok(Object.hasOwn(digest, '__proto__'));
        assert.deepEqual(Object.keys(digest), ['__proto__', 'sha256']);
      });
    });

    describe('when the payload is not a statement', () => {
      const cases: [string, Uint8Array][] = [
        ['an array', encode([])],
        ['null', encode(null)],
        ['a string', encode('statement')],
        ['no _type', statementWith((s) => delete s['_type'])],
        [
          'an unknown _type',
          statementWith((s) => (s['_type'] = 'https://in-toto.io/Statement/v2')),
        ],
        ['a _type that is not a string', statementWith((s) => (s['_type'] = 1))],
        ['a DSSE envelope', encode({ payloadType: 'application/vnd.in-toto+json', payload: '' })],
        ['no subject', statementWith((s) => delete s['subject'])],
        ['an empty subject', statementWith((s) => (s['subject'] = []))],
        [
          'a subject object',
          statementWith((s) => (s['subject'] = { digest: { sha256: SHA256_A } })),
        ],
        ['a subject that is not an object', statementWith((s) => (s['subject'] = ['x']))],
        [
          'a subject name that is a number',
          statementWith((s) => (s['subject'] = [{ name: 1, digest: { sha256: SHA256_A } }])),
        ],
        ['a subject without digest', statementWith((s) => (s['subject'] = [{ name: 'x' }]))],
        ['an empty digest', statementWith((s) => (s['subject'] = [{ name: 'x', digest: {} }]))],
        [
          'a digest array',
          statementWith((s) => (s['subject'] = [{ name: 'x', digest: [SHA256_A] }])),
        ],
        [
          'an upper-case digest',
          statementWith(
            (s) => (s['subject'] = [{ name: 'x', digest: { sha256: SHA256_A.toUpperCase() } }]),
          ),
        ],
        [
          'a non-hex digest',
          statementWith(
            (s) => (s['subject'] = [{ name: 'x', digest: { sha256: 'z'.repeat(64) } }]),
          ),
        ],
        [
          'an odd-length digest',
          statementWith((s) => (s['subject'] = [{ name: 'x', digest: { other: 'abc' } }])),
        ],
        [
          'a short sha256',
          statementWith((s) => (s['subject'] = [{ name: 'x', digest: { sha256: 'ab' } }])),
        ],
        [
          'a sha512 of sha256 length',
          statementWith((s) => (s['subject'] = [{ name: 'x', digest: { sha512: SHA256_A } }])),
        ],
        [
          'a numeric digest',
          statementWith((s) => (s['subject'] = [{ name: 'x', digest: { sha256: 1 } }])),
        ],
        [
          'a bad third subject',
          statementWith(
            (s) =>
              (s['subject'] = [
                { name: 'a', digest: { sha256: SHA256_A } },
                { name: 'b', digest: { sha256: SHA256_A } },
                { name: 'c', digest: { sha256: 'nothex' } },
              ]),
          ),
        ],
        ['no predicateType', statementWith((s) => delete s['predicateType'])],
        ['an empty predicateType', statementWith((s) => (s['predicateType'] = ''))],
        ['a predicateType object', statementWith((s) => (s['predicateType'] = {}))],
        ['a predicate array', statementWith((s) => (s['predicate'] = []))],
        ['a predicate string', statementWith((s) => (s['predicate'] = 'x'))],
      ];
      for (const [what, payload] of cases) {
        it(`throws STATEMENT_INVALID for ${what}`, () => {
          assertCode(() => parseStatement(payload), 'STATEMENT_INVALID');
        });
      }
    });

    describe('when the payload is not JSON', () => {
      it('throws MALFORMED_JSON for truncated JSON', () => {
        assertCode(
          () => parseStatement(GENERIC_TAG.subarray(0, GENERIC_TAG.length - 1)),
          'MALFORMED_JSON',
        );
      });

      it('throws MALFORMED_JSON for invalid UTF-8', () => {
        assertCode(() => parseStatement(Uint8Array.from([0x7b, 0xff, 0x7d])), 'MALFORMED_JSON');
      });

      it('throws NESTING_TOO_DEEP for 10^5-deep nesting', () => {
        const deep = new TextEncoder().encode(
          `{"_type":"https://in-toto.io/Statement/v1","predicate":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
        );
        assertCode(() => parseStatement(deep), 'NESTING_TOO_DEEP');
      });

      it('throws INPUT_TOO_LARGE over the given limit', () => {
        assertCode(
          () => parseStatement(GENERIC_TAG, { maxBytes: 1000, maxDepth: 64 }),
          'INPUT_TOO_LARGE',
        );
      });
    });

    describe('for arbitrary input', () => {
      it('returns or throws a VerificationError for any bytes', () => {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 500 }), (b) =>
            onlyCodedErrors(() => parseStatement(b)),
          ),
        );
      });

      it('returns or throws a VerificationError for any JSON value', () => {
        fc.assert(
          fc.property(fc.jsonValue(), (v) => onlyCodedErrors(() => parseStatement(encode(v)))),
        );
      });

      it('returns or throws a VerificationError for statement-shaped values', () => {
        const anything = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined));
        const digest = fc.oneof(
          fc.dictionary(
            fc.oneof(
              fc.constantFrom('sha256', 'sha512', 'sha1', '__proto__', 'constructor'),
              fc.string(),
            ),
            fc.oneof(fc.constant(SHA256_A), fc.stringMatching(/^[0-9a-fA-F]{0,130}$/), anything),
          ),
          anything,
        );
        const subject = fc.oneof(
          fc.record({ name: anything, digest }, { requiredKeys: [] }),
          anything,
        );
        const candidate = fc.record(
          {
            _type: fc.oneof(
              fc.constantFrom(
                'https://in-toto.io/Statement/v0.1',
                'https://in-toto.io/Statement/v1',
              ),
              anything,
            ),
            subject: fc.oneof(fc.array(subject, { maxLength: 4 }), anything),
            predicateType: fc.oneof(fc.string(), anything),
            predicate: anything,
          },
          { requiredKeys: [] },
        );
        fc.assert(
          fc.property(candidate, (value) =>
            onlyCodedErrors(() => {
              const parsed = parseStatement(encode(value));
              // Whatever parses, matchSubject can be run against.
              onlyCodedErrors(() => matchSubject(parsed, { sha256: SHA256_A }));
            }),
          ),
        );
      });
    });
  });

  describe('#matchSubject', () => {
    describe('when the artifact is the real generic-generator binary', () => {
      it('matches its sha256 subject', () => {
        assert.deepEqual(matchSubject(parseStatement(GENERIC_TAG), { sha256: GENERIC_SHA256 }), {
          name: 'gha_generic-binary-linux-amd64-v13.0.30',
          algorithm: 'sha256',
          digest: GENERIC_SHA256,
        });
      });

      it('compares hex case-insensitively', () => {
        const match = matchSubject(parseStatement(GENERIC_TAG), {
          sha256: GENERIC_SHA256.toUpperCase(),
        });
        assert.equal(match.digest, GENERIC_SHA256);
      });
    });

    describe('when the artifact is the real sigstore-js 2.1.0 tarball', () => {
      it('matches its sha512 subject', () => {
        const tgz = readFileSync(new URL('gh-attestation/sigstore-js-2.1.0.tgz', FIXTURES));
        const digests = {
          sha256: createHash('sha256').update(tgz).digest('hex'),
          sha512: createHash('sha512').update(tgz).digest('hex'),
        };
        assert.deepEqual(matchSubject(parseStatement(SIGSTORE_JS), digests), {
          name: 'pkg:npm/sigstore@2.1.0',
          algorithm: 'sha512',
          digest: SIGSTORE_JS_SHA512,
        });
      });
    });

    describe('when the subject and the artifact both have sha512 and sha256', () => {
      it('reports the sha512 match', () => {
        const s = statement([{ name: 'x', digest: { sha256: SHA256_A, sha512: SHA512_B } }]);
        assert.deepEqual(matchSubject(s, { sha256: SHA256_A, sha512: SHA512_B }), {
          name: 'x',
          algorithm: 'sha512',
          digest: SHA512_B,
        });
      });

      it('throws SUBJECT_DIGEST_MISMATCH when only sha256 agrees', () => {
        const s = statement([{ name: 'x', digest: { sha256: SHA256_A, sha512: SHA512_B } }]);
        assertCode(
          () => matchSubject(s, { sha256: SHA256_A, sha512: 'c'.repeat(128) }),
          'SUBJECT_DIGEST_MISMATCH',
        );
      });
    });

    describe('when the artifact has both and the subject only sha256', () => {
      it('matches on sha256', () => {
        const s = statement([{ name: 'x', digest: { sha256: SHA256_A } }]);
        assert.equal(matchSubject(s, { sha256: SHA256_A, sha512: SHA512_B }).algorithm, 'sha256');
      });
    });

    describe('when a later subject matches', () => {
      it('returns that subject', () => {
        const s = statement([
          { name: 'first', digest: { sha256: 'c'.repeat(64) } },
          { name: 'second', digest: { sha512: SHA512_B } },
          { name: 'third', digest: { sha256: SHA256_A } },
        ]);
        assert.equal(matchSubject(s, { sha256: SHA256_A }).name, 'third');
      });
    });

    describe('when no subject digest equals the artifact digest', () => {
      it('throws SUBJECT_DIGEST_MISMATCH', () => {
        assertCode(
          () => matchSubject(parseStatement(GENERIC_TAG), { sha256: 'c'.repeat(64) }),
          'SUBJECT_DIGEST_MISMATCH',
        );
      });

      it('throws SUBJECT_DIGEST_MISMATCH for a one-character difference', () => {
        const other = `${GENERIC_SHA256.slice(0, -1)}b`;
        assertCode(
          () => matchSubject(parseStatement(GENERIC_TAG), { sha256: other }),
          'SUBJECT_DIGEST_MISMATCH',
        );
      });

      it('throws SUBJECT_DIGEST_MISMATCH for many subjects', () => {
        const s = statement(
          Array.from({ length: 50 }, (_, i) => ({
            name: `s${i}`,
            digest: { sha256: i.toString(16).padStart(64, '0') },
          })),
        );
        assertCode(() => matchSubject(s, { sha256: SHA256_A }), 'SUBJECT_DIGEST_MISMATCH');
      });
    });

    describe('when no subject has a digest of the artifact algorithms', () => {
      it('throws SUBJECT_DIGEST_MISMATCH', () => {
        assertCode(
          () => matchSubject(parseStatement(GENERIC_TAG), { sha512: SHA512_B }),
          'SUBJECT_DIGEST_MISMATCH',
        );
        assertCode(
          () =>
            matchSubject(statement([{ name: 'x', digest: { sha1: 'a'.repeat(40) } }]), {
              sha256: SHA256_A,
            }),
          'SUBJECT_DIGEST_MISMATCH',
        );
      });
    });

    describe('when a subject digest is not hex (a statement not from parseStatement)', () => {
      it('does not match it', () => {
        const s = statement([{ name: 'x', digest: { sha256: 'z'.repeat(64) } }]);
        assertCode(() => matchSubject(s, { sha256: 'f'.repeat(64) }), 'SUBJECT_DIGEST_MISMATCH');
      });
    });

    describe('when the artifact digests are invalid', () => {
      const s = statement([{ name: 'x', digest: { sha256: SHA256_A } }]);
      for (const [what, digests] of [
        ['none', {}],
        ['a short sha256', { sha256: 'abcd' }],
        ['a non-hex sha256', { sha256: 'z'.repeat(64) }],
        ['a sha256 of sha512 length', { sha256: SHA512_B }],
        ['a numeric sha512', { sha512: 5 as unknown as string }],
        ['a valid sha256 and an invalid sha512', { sha256: SHA256_A, sha512: 'x' }],
      ] as const) {
        it(`throws INVALID_DIGEST for ${what}`, () => {
          assertCode(() => matchSubject(s, digests), 'INVALID_DIGEST');
        });
      }
    });
  });
});
