import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import {
  DEFAULT_JSON_LIMITS,
  decodeBase64,
  parseJson,
  splitJsonLines,
} from '../../src/verify/json.ts';
import { isVerificationError } from '../../src/verify/error.ts';
import { assertCode, onlyCodedErrors } from './support/fixtures.ts';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const readFixture = (path: string): string => readFileSync(new URL(path, FIXTURES), 'utf8');

const SMALL = { maxBytes: 1024, maxDepth: 4 };

describe('json', () => {
  describe('DEFAULT_JSON_LIMITS', () => {
    it('allows 16 MiB and 64 levels', () => {
      assert.deepEqual({ ...DEFAULT_JSON_LIMITS }, { maxBytes: 16 * 1024 * 1024, maxDepth: 64 });
      assert.ok(Object.isFrozen(DEFAULT_JSON_LIMITS));
    });
  });

  describe('#parseJson', () => {
    describe('when the input is valid JSON', () => {
      it('parses a string', () => {
        assert.deepEqual(parseJson('{"a":[1,"x",null]}', SMALL), { a: [1, 'x', null] });
      });

      it('parses UTF-8 bytes', () => {
        const bytes = new TextEncoder().encode('{"name":"ünïcødé ✓ 𝄞"}');
        assert.deepEqual(parseJson(bytes, SMALL), { name: 'ünïcødé ✓ 𝄞' });
      });

      it('parses scalars at depth 0', () => {
        assert.equal(parseJson('"[[[[[["', SMALL), '[[[[[[');
        assert.equal(parseJson(' 42 ', SMALL), 42);
      });

      it('uses the default limits when none are given', () => {
        assert.deepEqual(parseJson('[]'), []);
      });

      it('parses a large string value within the size limit', () => {
        const big = 'x'.repeat(1024 * 1024);
        assert.equal(parseJson(`"${big}"`, DEFAULT_JSON_LIMITS), big);
      });
    });

    describe('when the input is over maxBytes', () => {
      it('throws INPUT_TOO_LARGE for a string', () => {
        assertCode(() => parseJson(`"${'x'.repeat(1024)}"`, SMALL), 'INPUT_TOO_LARGE');
      });

      it('throws INPUT_TOO_LARGE for bytes, before decoding them', () => {
        // Invalid UTF-8 too: the size check comes first.
        assertCode(() => parseJson(new Uint8Array(1025).fill(0xff), SMALL), 'INPUT_TOO_LARGE');
      });

      it('throws INPUT_TOO_LARGE counting UTF-8 bytes, not UTF-16 units', () => {
        // 400 characters, 1200 bytes.
        assertCode(() => parseJson(`"${'✓'.repeat(400)}"`, SMALL), 'INPUT_TOO_LARGE');
      });

      it('accepts exactly maxBytes', () => {
        assert.equal(parseJson(`"${'x'.repeat(1022)}"`, SMALL), 'x'.repeat(1022));
      });
    });

    describe('when the input nests deeper than maxDepth', () => {
      it('throws NESTING_TOO_DEEP', () => {
        assertCode(() => parseJson('[[[[[1]]]]]', SMALL), 'NESTING_TOO_DEEP');
        assertCode(() => parseJson('{"a":{"b":{"c":{"d":{}}}}}', SMALL), 'NESTING_TOO_DEEP');
      });

      it('accepts exactly maxDepth', () => {
        assert.deepEqual(parseJson('[[[{"a":1}]]]', SMALL), [[[{ a: 1 }]]]);
      });

      it('throws NESTING_TOO_DEEP for 10^5 levels, without overflowing the stack', () => {
        const deep = '['.repeat(100_000) + ']'.repeat(100_000);
        assertCode(() => parseJson(deep, DEFAULT_JSON_LIMITS), 'NESTING_TOO_DEEP');
        const objects = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
        assertCode(() => parseJson(objects, DEFAULT_JSON_LIMITS), 'NESTING_TOO_DEEP');
      });

      it('throws NESTING_TOO_DEEP for an unterminated deep prefix', () => {
        assertCode(() => parseJson('['.repeat(100_000), DEFAULT_JSON_LIMITS), 'NESTING_TOO_DEEP');
      });
    });

    describe('when brackets are inside strings', () => {
      it('does not count them', () => {
        assert.deepEqual(parseJson('["[[[[[[", "{{{{{{{"]', SMALL), ['[[[[[[', '{{{{{{{']);
      });

      it('does not end the string at an escaped quote', () => {
        assert.deepEqual(parseJson('["\\"[[[[[[\\\\", "x"]', SMALL), ['"[[[[[[\\', 'x']);
      });
    });

    describe('when the JSON is malformed', () => {
      for (const input of [
        '',
        ' ',
        '{',
        '{"a":',
        '{"a":1',
        '[1,2',
        '"unterminated',
        '{"a":1}}',
        ']',
        '}{',
        '[1,]',
        "{'a':1}",
        '{"a":1} trailing',
        'NaN',
        'undefined',
      ]) {
        it(`throws MALFORMED_JSON for ${JSON.stringify(input)}`, () => {
          assertCode(() => parseJson(input, SMALL), 'MALFORMED_JSON');
        });
      }

      it('throws MALFORMED_JSON for every truncation of a real statement', () => {
        const line = splitJsonLines(
          readFixture(
            'slsa-github-generator/generic-v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl',
          ),
        )[0]!.text;
        const envelope = (JSON.parse(line) as { dsseEnvelope: { payload: string } }).dsseEnvelope;
        const statement = Buffer.from(envelope.payload, 'base64');
        for (let n = 0; n < statement.length; n += 7) {
          assertCode(() => parseJson(statement.subarray(0, n)), 'MALFORMED_JSON');
        }
        assert.ok(parseJson(statement));
      });
    });

    describe('when the bytes are not valid UTF-8', () => {
      for (const [what, bytes] of [
        ['a stray continuation byte', [0x22, 0x80, 0x22]],
        ['0xff', [0x22, 0xff, 0x22]],
        ['an overlong encoding of "/"', [0x22, 0xc0, 0xaf, 0x22]],
        ['an encoded surrogate', [0x22, 0xed, 0xa0, 0x80, 0x22]],
        ['a truncated sequence', [0x22, 0xe2, 0x9c, 0x22]],
        ['a code point above U+10FFFF', [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]],
      ] as const) {
        it(`throws MALFORMED_JSON for ${what}`, () => {
          assertCode(() => parseJson(Uint8Array.from(bytes), SMALL), 'MALFORMED_JSON');
        });
      }

      it('throws MALFORMED_JSON for a byte order mark', () => {
        assertCode(
          () => parseJson(Uint8Array.from([0xef, 0xbb, 0xbf, 0x31]), SMALL),
          'MALFORMED_JSON',
        );
        assertCode(() => parseJson('\ufeff1', SMALL), 'MALFORMED_JSON');
      });
    });

    describe('when a document has a __proto__ key', () => {
      it('keeps it as an own property and pollutes no prototype', () => {
        const parsed = parseJson(
          '{"__proto__":{"polluted":true},"a":{"__proto__":{"polluted":true}},"constructor":{"prototype":{"polluted":true}}}',
          SMALL,
        ) as Record<string, unknown>;

        assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
        assert.ok(Object.hasOwn(parsed, '__proto__'));
        assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
        assert.equal((parsed as { polluted?: unknown }).polluted, undefined);
        // Copies by spread stay safe too.
        const copy = { ...parsed };
        assert.equal(Object.getPrototypeOf(copy), Object.prototype);
        assert.equal((copy as { polluted?: unknown }).polluted, undefined);
      });
    });

    describe('for arbitrary input', () => {
      it('returns or throws a VerificationError for any string', () => {
        fc.assert(
          fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) =>
            onlyCodedErrors(() => parseJson(s, SMALL)),
          ),
        );
      });

      it('returns or throws a VerificationError for strings of JSON punctuation', () => {
        const punctuation = fc.constantFrom('[', ']', '{', '}', '"', '\\', ',', ':', '1', ' ', 'a');
        fc.assert(
          fc.property(fc.string({ unit: punctuation, maxLength: 300 }), (s) =>
            onlyCodedErrors(() => parseJson(s, SMALL)),
          ),
        );
      });

      it('returns or throws a VerificationError for any bytes', () => {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) =>
            onlyCodedErrors(() => parseJson(bytes, SMALL)),
          ),
        );
      });

      it('round-trips any JSON value within the limits', () => {
        const limits = { maxBytes: 1 << 20, maxDepth: 64 };
        fc.assert(
          fc.property(fc.jsonValue({ maxDepth: 10 }), (value) => {
            const text = JSON.stringify(value);
            assert.deepEqual(parseJson(text, limits), JSON.parse(text));
            assert.deepEqual(parseJson(new TextEncoder().encode(text), limits), JSON.parse(text));
          }),
        );
      });

      it('returns or throws a VerificationError for any JSON value under random limits', () => {
        fc.assert(
          fc.property(
            fc.jsonValue(),
            fc.integer({ min: 0, max: 200 }),
            fc.integer({ min: 0, max: 5 }),
            (value, maxBytes, maxDepth) =>
              onlyCodedErrors(() => parseJson(JSON.stringify(value), { maxBytes, maxDepth })),
          ),
        );
      });
    });
  });

  describe('#decodeBase64', () => {
    describe('when the value is valid base64', () => {
      for (const [encoded, text] of [
        ['', ''],
        ['Zg==', 'f'],
        ['Zm8=', 'fo'],
        ['Zm9v', 'foo'],
        ['Zm9vYmFy', 'foobar'],
        ['Zg', 'f'],
        ['Zm8', 'fo'],
      ] as const) {
        it(`decodes ${JSON.stringify(encoded)}`, () => {
          assert.equal(decodeBase64(encoded, 'f').toString('latin1'), text);
        });
      }

      it('decodes the standard and URL-safe alphabets alike', () => {
        const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0xfe]);
        assert.deepEqual(decodeBase64('+/+//g==', 'f'), bytes);
        assert.deepEqual(decodeBase64('-_-__g', 'f'), bytes);
      });

      it('decodes every base64 field of the real bundles', () => {
        const bundle = JSON.parse(readFixture('gh-attestation/sigstore-js-2.1.0-bundle.json')) as {
          dsseEnvelope: { payload: string; signatures: { sig: string }[] };
          verificationMaterial: { certificate: { rawBytes: string } };
        };
        const payload = decodeBase64(bundle.dsseEnvelope.payload, 'dsseEnvelope.payload');
        assert.equal(
          (JSON.parse(payload.toString('utf8')) as { _type: string })._type,
          'https://in-toto.io/Statement/v1',
        );
        assert.equal(decodeBase64(bundle.dsseEnvelope.signatures[0]!.sig, 'sig').length > 64, true);
        const der = decodeBase64(bundle.verificationMaterial.certificate.rawBytes, 'rawBytes');
        assert.equal(der[0], 0x30);
      });
    });

    describe('when the value is not a string', () => {
      for (const [what, value] of [
        ['undefined', undefined],
        ['null', null],
        ['a number', 42],
        ['an array', ['Zg==']],
        ['an object', { b64: 'Zg==' }],
        ['a Buffer', Buffer.from('Zg==')],
      ] as const) {
        it(`throws BAD_BASE64 for ${what}`, () => {
          assertCode(() => decodeBase64(value, 'f'), 'BAD_BASE64');
        });
      }
    });

    describe('when the value is not strict base64', () => {
      for (const [what, value] of [
        ['a space', 'Zm9v YmFy'],
        ['a newline', 'Zm9v\nYmFy'],
        ['a trailing newline', 'Zm9vYmFy\n'],
        ['a leading space', ' Zm9v'],
        ['a character outside the alphabet', 'Zm9v*mFy'],
        ['a non-ASCII character', 'Zm9vä'],
        ['padding in the middle', 'Zg==Zg=='],
        ['padding in the middle of a quantum', 'Z=g='],
        ['three padding characters', 'Zg==='],
        ['padding that does not complete a quantum', 'Zg='],
        ['padding after a complete quantum', 'Zm9v===='],
        ['only padding', '=='],
        ['a dangling character', 'Zm9vY'],
        ['a dangling padded character', 'Zm9vY==='],
        ['mixed alphabets', '+/-_'],
        ['non-zero trailing bits (one byte)', 'Zh=='],
        ['non-zero trailing bits (two bytes)', 'Zm9='],
        ['non-zero trailing bits, unpadded', 'Zh'],
      ] as const) {
        it(`throws BAD_BASE64 for ${what}`, () => {
          assertCode(() => decodeBase64(value, 'dsseEnvelope.payload'), 'BAD_BASE64');
        });
      }
    });

    describe('for arbitrary input', () => {
      it('round-trips any bytes in either alphabet, padded or not', () => {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
            const buffer = Buffer.from(bytes);
            const standard = buffer.toString('base64');
            assert.deepEqual(decodeBase64(standard, 'f'), buffer);
            assert.deepEqual(decodeBase64(standard.replace(/=+$/, ''), 'f'), buffer);
            assert.deepEqual(decodeBase64(buffer.toString('base64url'), 'f'), buffer);
          }),
        );
      });

      it('returns or throws a VerificationError for any string, and is canonical', () => {
        const alphabet = fc.constantFrom(
          ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_= \n.',
        );
        fc.assert(
          fc.property(
            fc.oneof(fc.string({ unit: alphabet, maxLength: 40 }), fc.string({ unit: 'binary' })),
            (s) => {
              let decoded: Buffer;
              try {
                decoded = decodeBase64(s, 'f');
              } catch (err) {
                if (!isVerificationError(err)) throw err;
                assert.equal(err.code, 'BAD_BASE64');
                return;
              }
              // Whatever decodes re-encodes to the same text (modulo alphabet and padding).
              const again =
                s.includes('-') || s.includes('_')
                  ? decoded.toString('base64url')
                  : decoded.toString('base64');
              assert.equal(again.replace(/=+$/, ''), s.replace(/=+$/, ''));
            },
          ),
        );
      });

      it('rejects any junk inserted into valid base64', () => {
        fc.assert(
          fc.property(
            fc.uint8Array({ minLength: 1, maxLength: 30 }),
            fc.constantFrom(' ', '\n', '\t', '.', '*', '\0', '%', 'é'),
            fc.nat(),
            (bytes, junk, at) => {
              const encoded = Buffer.from(bytes).toString('base64');
              const i = at % (encoded.length + 1);
              assertCode(
                () => decodeBase64(encoded.slice(0, i) + junk + encoded.slice(i), 'f'),
                'BAD_BASE64',
              );
            },
          ),
        );
      });
    });
  });

  describe('#splitJsonLines', () => {
    describe('when the text has blank lines and CRLF endings', () => {
      it('keeps non-blank lines with their 1-based line numbers', () => {
        assert.deepEqual(splitJsonLines('{"a":1}\r\n\r\n  \n{"b":2}\n\n{"c":3}'), [
          { line: 1, text: '{"a":1}' },
          { line: 4, text: '{"b":2}' },
          { line: 6, text: '{"c":3}' },
        ]);
      });
    });

    describe('when the text is empty or blank', () => {
      it('returns no lines', () => {
        assert.deepEqual(splitJsonLines(''), []);
        assert.deepEqual(splitJsonLines('\n\r\n \t \n'), []);
      });
    });

    describe('when the text is a real JSON Lines file', () => {
      it('returns one line per bundle', () => {
        const lines = splitJsonLines(
          readFixture('gh-attestation/sigstore-js-2.1.0_with_2_bundles.jsonl'),
        );
        assert.equal(lines.length, 2);
        for (const { text } of lines) {
          assert.equal(
            (parseJson(text) as { mediaType: string }).mediaType,
            'application/vnd.dev.sigstore.bundle.v0.3+json',
          );
        }
      });
    });
  });
});
