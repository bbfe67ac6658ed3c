// Hostile input for each parser on the verification path: the attestation
// document (JSON, JSON Lines, npm document, bundle fields, base64), the
// certificate, the tlog body (logged by a trusted crafting log so that it is
// really read), the checkpoint, the inclusion proof and the RFC 3161
// timestamp. Every case must end in a VerificationError with its code.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import type { SerializedBundle } from '@sigstore/bundle';
import type { TrustMaterial } from '../../src/trust/index.ts';
import {
  DEFAULT_PARSE_LIMITS,
  isVerificationError,
  parseAttestations,
  type VerificationErrorCode,
  type VerifyOptions,
} from '../../src/verify/index.ts';
import { createTestPki, IN_TOTO_PAYLOAD_TYPE, type TestPki } from '../support/pki.ts';
import { createCraftingLog, type CraftingLog } from './support/craftedlog.ts';
import {
  ARTIFACT,
  assertCode,
  base64,
  BYTES,
  clone,
  getAt,
  setAt,
  STATEMENT,
  trustFor,
  verifyDocument,
  type JsonPath,
} from './support/fixtures.ts';

const MiB = 1024 * 1024;
const DEEP = 100_000;

let pki: TestPki;
let trust: TrustMaterial;
let crafting: CraftingLog;
/** `trust` plus the crafting log. */
let craftedTrust: TrustMaterial;
/** v0.3, message signature, Rekor v1 (SET and proof), RFC 3161 timestamp, keyless. */
let message: SerializedBundle;
/** v0.2, DSSE, full certificate chain. */
let dsse: SerializedBundle;

function verify(doc: unknown, material: TrustMaterial = trust, extra: Partial<VerifyOptions> = {}) {
  const input = typeof doc === 'string' || doc instanceof Uint8Array ? doc : JSON.stringify(doc);
  return verifyDocument(input, material, BYTES, { now: pki.now, ...extra });
}

/** A copy of `bundle` with the value at `path` replaced. */
function withValue(bundle: SerializedBundle, path: JsonPath, value: unknown): SerializedBundle {
  const copy = clone(bundle);
  setAt(copy, path, value);
  return copy;
}

function deepArray(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

function deepObject(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const ENTRY = ['verificationMaterial', 'tlogEntries', 0] as const;
const PROOF = [...ENTRY, 'inclusionProof'] as const;
const CHECKPOINT = [...PROOF, 'checkpoint', 'envelope'] as const;
const LEAF = ['verificationMaterial', 'certificate', 'rawBytes'] as const;
const TIMESTAMP = [
  'verificationMaterial',
  'timestampVerificationData',
  'rfc3161Timestamps',
  0,
  'signedTimestamp',
] as const;

describe('parseAttestations', () => {
  before(setUp);

  describe('when the JSON is truncated', () => {
    it('throws MALFORMED_JSON wherever it is cut (every 7th character)', () => {
      for (const doc of [message, dsse]) {
        const text = JSON.stringify(doc);
        for (let cut = 0; cut < text.length; cut += 7) {
          // Broken: the document cut after `cut` characters.
          assertCode(() => parseAttestations(text.slice(0, cut)), 'MALFORMED_JSON');
        }
      }
    });

    it('throws MALFORMED_JSON for truncated UTF-8 bytes', () => {
      const bytes = Buffer.from(JSON.stringify({ ...message, note: 'é' }));
      const at = bytes.indexOf(Buffer.from('é'));
      // Broken: the document ends inside a two-byte UTF-8 sequence.
      assertCode(() => parseAttestations(bytes.subarray(0, at + 1)), 'MALFORMED_JSON');
    });
  });

  describe('when the input is oversized', () => {
    it('throws INPUT_TOO_LARGE', () => {
      const limit = DEFAULT_PARSE_LIMITS.maxBytes;
      const padded = `${JSON.stringify(message)}${' '.repeat(limit)}`;
      assertCode(() => parseAttestations(padded), 'INPUT_TOO_LARGE');
      assertCode(() => parseAttestations(Buffer.from(padded)), 'INPUT_TOO_LARGE');
      // Multi-byte characters: under the limit in UTF-16 code units, over it in UTF-8 bytes.
      assertCode(() => parseAttestations(`"${'é'.repeat(limit / 2 + 1)}"`), 'INPUT_TOO_LARGE');
    });

    it('throws INPUT_TOO_LARGE for a DSSE payload that makes the document too large', () => {
      // Broken: a 13 MiB payload is over 16 MiB once base64-encoded.
      const huge = withValue(dsse, ['dsseEnvelope', 'payload'], base64(Buffer.alloc(13 * MiB)));
      assertCode(() => verify(huge), 'INPUT_TOO_LARGE');
    });

    it('throws INPUT_TOO_LARGE under caller limits', () => {
      const limits = { ...DEFAULT_PARSE_LIMITS, maxBytes: 1024 };
      assertCode(() => parseAttestations(JSON.stringify(message), limits), 'INPUT_TOO_LARGE');
    });
  });

  describe('when the JSON nests 10^5 levels deep', () => {
    it('throws NESTING_TOO_DEEP', () => {
      assertCode(() => parseAttestations(deepArray(DEEP)), 'NESTING_TOO_DEEP');
      assertCode(() => parseAttestations(deepObject(DEEP)), 'NESTING_TOO_DEEP');
      assertCode(() => parseAttestations(Buffer.from(deepArray(DEEP))), 'NESTING_TOO_DEEP');
      // Unbalanced: only opening brackets.
      assertCode(() => parseAttestations('['.repeat(DEEP)), 'NESTING_TOO_DEEP');
    });

    it('throws NESTING_TOO_DEEP inside a bundle field', () => {
      const text = JSON.stringify({ ...message, extra: 'DEEP' }).replace('"DEEP"', deepArray(DEEP));
      assertCode(() => parseAttestations(text), 'NESTING_TOO_DEEP');
    });

    it('throws NESTING_TOO_DEEP on one line of JSON Lines', () => {
      const lines = `${JSON.stringify(message)}\n${deepObject(DEEP)}\n`;
      assertCode(() => parseAttestations(lines), 'NESTING_TOO_DEEP');
    });
  });

  describe('when a base64 field is not base64', () => {
    const BAD: [string, unknown][] = [
      ['a character outside the alphabet', 'not*base64'],
      ['a dangling character', 'AAAAA'],
      ['data after padding', 'AA==AA=='],
      ['excess padding', 'AAAA===='],
      ['non-zero trailing bits', 'AB=='],
      ['mixed alphabets', 'ab+_'],
      ['whitespace', 'AAAA AAAA'],
      ['a non-ASCII character', 'AAA\u00e9'],
      ['a number', 42],
      ['an object', { rawBytes: 'AAAA' }],
      ['null', null],
    ];
    const FIELDS: ['message' | 'dsse', JsonPath][] = [
      ['message', ['messageSignature', 'signature']],
      ['message', ['messageSignature', 'messageDigest', 'digest']],
      ['message', LEAF],
      ['message', [...ENTRY, 'logId', 'keyId']],
      ['message', [...ENTRY, 'canonicalizedBody']],
      ['message', [...ENTRY, 'inclusionPromise', 'signedEntryTimestamp']],
      ['message', [...PROOF, 'rootHash']],
      ['message', [...PROOF, 'hashes', 0]],
      ['message', TIMESTAMP],
      ['dsse', ['dsseEnvelope', 'payload']],
      ['dsse', ['dsseEnvelope', 'signatures', 0, 'sig']],
      ['dsse', ['verificationMaterial', 'x509CertificateChain', 'certificates', 0, 'rawBytes']],
      ['dsse', ['verificationMaterial', 'x509CertificateChain', 'certificates', 1, 'rawBytes']],
    ];
    for (const [which, path] of FIELDS) {
      it(`throws BAD_BASE64 for ${path.join('.')}`, () => {
        const bundle = which === 'message' ? message : dsse;
        assert.equal(typeof getAt(bundle, path), 'string');
        for (const [, value] of BAD) {
          assertCode(
            () => parseAttestations(JSON.stringify(withValue(bundle, path, value))),
            'BAD_BASE64',
          );
        }
      });
    }

    it('throws BAD_BASE64 for the payload and signature of a bare envelope', () => {
      const env = pki.signEnvelope(STATEMENT, IN_TOTO_PAYLOAD_TYPE, { key: 'ecdsa-p256' });
      for (const path of [['payload'], ['signatures', 0, 'sig']] as const) {
        for (const [, value] of BAD) {
          const copy = clone(env);
          setAt(copy, path, value);
          assertCode(() => parseAttestations(JSON.stringify(copy)), 'BAD_BASE64');
        }
      }
    });
  });

  describe('when a JSON Lines document has a bad line', () => {
    it('throws MALFORMED_JSON naming the line', () => {
      const lines = `${JSON.stringify(message)}\n{"mediaType": oops}\n${JSON.stringify(dsse)}\n`;
      assertCodeAndLine(() => parseAttestations(lines), 'MALFORMED_JSON', 2);
    });

    it('throws MALFORMED_JSON for a line cut short', () => {
      const text = JSON.stringify(message);
      const lines = `${text}\n${text.slice(0, -20)}\n`;
      assertCode(() => parseAttestations(lines), 'MALFORMED_JSON');
    });

    it('throws MALFORMED_BUNDLE naming the line that is not a bundle', () => {
      const lines = `${JSON.stringify(message)}\n\n{"hello":"world"}\n`;
      assertCodeAndLine(() => parseAttestations(lines), 'MALFORMED_BUNDLE', 3);
    });

    it('throws UNKNOWN_BUNDLE_VERSION naming the line', () => {
      const lines = `${JSON.stringify(message)}\r\n${JSON.stringify({ ...dsse, mediaType: 'application/vnd.dev.sigstore.bundle+json;version=9' })}\r\n`;
      assertCodeAndLine(() => parseAttestations(lines), 'UNKNOWN_BUNDLE_VERSION', 2);
    });

    it('throws MALFORMED_BUNDLE for an npm document on a line', () => {
      const npm = JSON.stringify({ attestations: [{ bundle: message }] });
      assertCode(
        () => parseAttestations(`${JSON.stringify(message)}\n${npm}\n`),
        'MALFORMED_BUNDLE',
      );
    });

    it('throws MALFORMED_JSON for invalid UTF-8 in a line', () => {
      const line = Buffer.from(JSON.stringify({ ...message, note: 'x' }));
      const at = line.indexOf(Buffer.from('"x"')) + 1;
      // Broken: 0xff is never valid UTF-8.
      line[at] = 0xff;
      const doc = Buffer.concat([Buffer.from(`${JSON.stringify(message)}\n`), line]);
      assertCode(() => parseAttestations(doc), 'MALFORMED_JSON');
    });
  });

  describe('when an npm attestations document has the wrong shape', () => {
    it('throws MALFORMED_BUNDLE', () => {
      const shapes: unknown[] = [
        { attestations: {} },
        { attestations: 'bundle' },
        { attestations: [null] },
        { attestations: [[]] },
        { attestations: [{ predicateType: PREDICATE, bundle: null }] },
        { attestations: [{ predicateType: PREDICATE }] },
        { attestations: [{ predicateType: 42, bundle: message }] },
        { attestations: [{ predicateType: PREDICATE, bundle: message }, { bundle: 'x' }] },
        { attestations: [{ predicateType: PREDICATE, bundle: { mediaType: 1 } }] },
        { attestation: [{ bundle: message }] },
      ];
      for (const doc of shapes) {
        assertCode(() => parseAttestations(JSON.stringify(doc)), 'MALFORMED_BUNDLE');
      }
    });

    it('throws NO_ATTESTATION for an empty list', () => {
      assertCode(() => parseAttestations('{"attestations":[]}'), 'NO_ATTESTATION');
    });
  });

  describe('when there are too many attestations', () => {
    it('throws TOO_MANY_ATTESTATIONS', () => {
      const n = DEFAULT_PARSE_LIMITS.maxAttestations + 1;
      const npm = { attestations: Array.from({ length: n }, () => ({ bundle: message })) };
      assertCode(() => parseAttestations(JSON.stringify(npm)), 'TOO_MANY_ATTESTATIONS');
      const lines = Array.from({ length: n }, () => JSON.stringify(message)).join('\n');
      assertCode(() => parseAttestations(lines), 'TOO_MANY_ATTESTATIONS');
      // Many lines that are not even JSON: the count is checked before any is parsed.
      assertCode(() => parseAttestations('x\n'.repeat(100_000)), 'TOO_MANY_ATTESTATIONS');
      const limits = { ...DEFAULT_PARSE_LIMITS, maxAttestations: 1 };
      const two = { attestations: [{ bundle: message }, { bundle: dsse }] };
      assertCode(() => parseAttestations(JSON.stringify(two), limits), 'TOO_MANY_ATTESTATIONS');
    });
  });

  describe('when the document is not an object', () => {
    it('throws MALFORMED_BUNDLE', () => {
      for (const doc of ['[]', '42', '"bundle"', 'null', 'true', '[{"mediaType":"x"}]']) {
        assertCode(() => parseAttestations(doc), 'MALFORMED_BUNDLE');
      }
    });

    it('throws MALFORMED_JSON for empty or blank input', () => {
      for (const doc of ['', ' ', '\n\n', '\ufeff{}']) {
        assertCode(() => parseAttestations(doc), 'MALFORMED_JSON');
      }
    });
  });

  describe('when a bundle field has the wrong shape', () => {
    const CASES: [string, () => unknown, VerificationErrorCode][] = [
      [
        'no verificationMaterial',
        () => withValue(message, ['verificationMaterial'], undefined),
        'MALFORMED_BUNDLE',
      ],
      [
        'verificationMaterial is an array',
        () => withValue(message, ['verificationMaterial'], []),
        'MALFORMED_BUNDLE',
      ],
      [
        'no certificate or key',
        () => withValue(message, ['verificationMaterial', 'certificate'], undefined),
        'MALFORMED_BUNDLE',
      ],
      [
        'certificate and key',
        () => withValue(message, ['verificationMaterial', 'publicKey'], { hint: 'x' }),
        'MALFORMED_BUNDLE',
      ],
      [
        'a chain of no certificates',
        () => withValue(dsse, ['verificationMaterial', 'x509CertificateChain', 'certificates'], []),
        'MALFORMED_BUNDLE',
      ],
      [
        'a chain of 11 certificates',
        () =>
          withValue(
            dsse,
            ['verificationMaterial', 'x509CertificateChain', 'certificates'],
            Array.from({ length: 11 }, () => ({ rawBytes: 'AAAA' })),
          ),
        'MALFORMED_BUNDLE',
      ],
      [
        'tlogEntries is an object',
        () => withValue(message, ['verificationMaterial', 'tlogEntries'], {}),
        'MALFORMED_BUNDLE',
      ],
      [
        'a tlog entry without kindVersion',
        () => withValue(message, [...ENTRY, 'kindVersion'], undefined),
        'MALFORMED_BUNDLE',
      ],
      [
        'an empty entry kind',
        () => withValue(message, [...ENTRY, 'kindVersion', 'kind'], ''),
        'MALFORMED_BUNDLE',
      ],
      [
        'hashes is a string',
        () => withValue(message, [...PROOF, 'hashes'], 'AAAA'),
        'MALFORMED_BUNDLE',
      ],
      [
        'a checkpoint that is a string',
        () => withValue(message, [...PROOF, 'checkpoint'], 'note'),
        'MALFORMED_BUNDLE',
      ],
      [
        'both dsseEnvelope and messageSignature',
        () => ({ ...message, dsseEnvelope: dsse.dsseEnvelope }),
        'MALFORMED_BUNDLE',
      ],
      [
        'neither dsseEnvelope nor messageSignature',
        () => withValue(message, ['messageSignature'], undefined),
        'MALFORMED_BUNDLE',
      ],
      [
        'a bundle envelope with two signatures',
        () =>
          withValue(
            dsse,
            ['dsseEnvelope', 'signatures', 1],
            clone(dsse.dsseEnvelope!.signatures[0]),
          ),
        'MALFORMED_BUNDLE',
      ],
      [
        'an envelope with no signatures',
        () => withValue(dsse, ['dsseEnvelope', 'signatures'], []),
        'MALFORMED_ENVELOPE',
      ],
      [
        'an envelope with 17 signatures',
        () =>
          withValue(
            dsse,
            ['dsseEnvelope', 'signatures'],
            Array.from({ length: 17 }, () => clone(dsse.dsseEnvelope!.signatures[0])),
          ),
        'MALFORMED_ENVELOPE',
      ],
      [
        'a payloadType that is a number',
        () => withValue(dsse, ['dsseEnvelope', 'payloadType'], 7),
        'MALFORMED_BUNDLE',
      ],
      [
        'a keyid that is a number',
        () => withValue(dsse, ['dsseEnvelope', 'signatures', 0, 'keyid'], 7),
        'MALFORMED_BUNDLE',
      ],
      [
        'an MD5 message digest',
        () => withValue(message, ['messageSignature', 'messageDigest', 'algorithm'], 'MD5'),
        'UNSUPPORTED_ALGORITHM',
      ],
      [
        'a mediaType that is a number',
        () => withValue(message, ['mediaType'], 3),
        'MALFORMED_BUNDLE',
      ],
    ];
    for (const [name, make, code] of CASES) {
      it(`throws ${code} for ${name}`, () => {
        assertCode(() => parseAttestations(JSON.stringify(make())), code);
      });
    }

    // Names Object.prototype has: a lookup in a plain object finds them.
    const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

    it('throws UNSUPPORTED_ALGORITHM for a message digest algorithm named like an Object.prototype property', () => {
      for (const algorithm of PROTOTYPE_NAMES) {
        const broken = withValue(
          message,
          ['messageSignature', 'messageDigest', 'algorithm'],
          algorithm,
        );
        assertCode(() => verify(broken), 'UNSUPPORTED_ALGORITHM');
      }
    });

    it('throws UNKNOWN_BUNDLE_VERSION for a media type named like an Object.prototype property', () => {
      for (const mediaType of PROTOTYPE_NAMES) {
        assertCode(() => verify({ ...message, mediaType }), 'UNKNOWN_BUNDLE_VERSION');
      }
    });
  });

  describe('when an integer field is not a non-negative integer', () => {
    const VALUES: unknown[] = [
      '-1',
      '1.5',
      '1e3',
      '0x10',
      ' 1',
      '',
      'abc',
      '12345678901234567890',
      -1,
      1.5,
      2 ** 53,
      Number.MAX_VALUE,
      true,
      {},
      [],
    ];
    const FIELDS: JsonPath[] = [
      [...ENTRY, 'logIndex'],
      [...ENTRY, 'integratedTime'],
      [...PROOF, 'logIndex'],
      [...PROOF, 'treeSize'],
    ];
    for (const path of FIELDS) {
      it(`throws MALFORMED_BUNDLE for ${path.join('.')}`, () => {
        for (const value of VALUES) {
          assertCode(
            () => parseAttestations(JSON.stringify(withValue(message, path, value))),
            'MALFORMED_BUNDLE',
          );
        }
      });
    }
  });

  describe('when an inclusion proof lists too many hashes', () => {
    it('throws MALFORMED_BUNDLE', () => {
      // Broken: 65 hashes; a path in a tree of up to 2^64 leaves has at most 64.
      const hashes = Array.from({ length: 65 }, () => base64(Buffer.alloc(32)));
      assertCode(
        () => parseAttestations(JSON.stringify(withValue(message, [...PROOF, 'hashes'], hashes))),
        'MALFORMED_BUNDLE',
      );
    });
  });
});

describe('verifyAttestation', () => {
  before(setUp);

  describe('when the certificate is truncated DER', () => {
    it('throws MALFORMED_CERTIFICATE when truncated (every other length, and the last byte)', () => {
      const der = Buffer.from(getAt(message, LEAF) as string, 'base64');
      for (const n of [...truncations(der.length, 2), der.length - 1]) {
        // Broken: the certificate cut to `n` bytes.
        assertCode(
          () => verify(withValue(message, LEAF, base64(der.subarray(0, n)))),
          'MALFORMED_CERTIFICATE',
        );
      }
    });
  });

  describe('when the certificate is garbage', () => {
    it('throws MALFORMED_CERTIFICATE', () => {
      const der = Buffer.from(getAt(message, LEAF) as string, 'base64');
      const garbage: Buffer[] = [
        randomBytes(700),
        Buffer.from('3084ffffffff', 'hex'), // a SEQUENCE claiming 4 GiB
        Buffer.from('308a0102030405060708090a', 'hex'), // a 10-byte length
        Buffer.from('0500', 'hex'), // NULL
        Buffer.concat([der, Buffer.from([0])]), // trailing data
        Buffer.from(pemCertificate(der.toString('base64'))), // PEM, not DER
        Buffer.from(deepDer(1000)),
      ];
      for (const bytes of garbage) {
        assertCode(() => verify(withValue(message, LEAF, base64(bytes))), 'MALFORMED_CERTIFICATE');
      }
    });

    it('throws CERTIFICATE_INVALID for the CA certificate itself', () => {
      const ca = pki.trustedRoot.certificateAuthorities[0]!.certChain.certificates[0]!.rawBytes;
      assertCode(() => verify(withValue(message, LEAF, ca)), 'CERTIFICATE_INVALID');
    });

    it('throws UNTRUSTED_CA for a well-formed certificate of another issuer', () => {
      const tsa = pki.trustedRoot.timestampAuthorities[0]!.certChain.certificates[0]!.rawBytes;
      assertCode(() => verify(withValue(message, LEAF, tsa)), 'UNTRUSTED_CA');
    });
  });

  describe('when the logged body is hostile', () => {
    let body: Record<string, unknown>;
    before(() => {
      body = JSON.parse(
        Buffer.from(getAt(message, [...ENTRY, 'canonicalizedBody']) as string, 'base64').toString(),
      ) as Record<string, unknown>;
    });

    /** `message` with its entry replaced by one that logs `logged` in the crafting log. */
    function logged(logged: string | Buffer, kind = 'hashedrekord', version = '0.0.1') {
      const bundle = clone(message);
      bundle.verificationMaterial.tlogEntries = [
        crafting.append(Buffer.from(logged), kind, version, pki.now),
      ];
      return bundle;
    }

    function edited(edit: (b: Record<string, unknown>) => void): string {
      const copy = clone(body);
      edit(copy);
      return JSON.stringify(copy);
    }

    it('verifies the original body logged there (the crafting log is trusted)', () => {
      verify(logged(JSON.stringify(body)), craftedTrust);
    });

    const CASES: [string, () => SerializedBundle, VerificationErrorCode][] = [
      ['not JSON', () => logged('not json'), 'TLOG_BODY_MALFORMED'],
      ['blank', () => logged(' '), 'TLOG_BODY_MALFORMED'],
      ['truncated JSON', () => logged(JSON.stringify(body).slice(0, -3)), 'TLOG_BODY_MALFORMED'],
      ['a JSON array', () => logged('[]'), 'TLOG_BODY_MALFORMED'],
      ['a JSON string', () => logged('"hashedrekord"'), 'TLOG_BODY_MALFORMED'],
      ['nested 10^5 levels deep', () => logged(deepObject(DEEP)), 'TLOG_BODY_MALFORMED'],
      [
        'over 4 MiB',
        () => logged(edited((b) => (b.padding = 'x'.repeat(4 * MiB)))),
        'TLOG_BODY_MALFORMED',
      ],
      [
        'invalid UTF-8',
        () =>
          logged(
            Buffer.concat([
              Buffer.from(JSON.stringify(body).slice(0, -1)),
              Buffer.from([0xff, 0x7d]),
            ]),
          ),
        'TLOG_BODY_MALFORMED',
      ],
      ['a byte order mark', () => logged(`\ufeff${JSON.stringify(body)}`), 'TLOG_BODY_MALFORMED'],
      [
        'another kind than the entry claims',
        () => logged(edited((b) => (b.kind = 'dsse'))),
        'TLOG_ENTRY_MISMATCH',
      ],
      [
        'another API version than the entry claims',
        () => logged(edited((b) => (b.apiVersion = '0.0.2'))),
        'TLOG_ENTRY_MISMATCH',
      ],
      [
        'an unsupported kind',
        () =>
          logged(
            edited((b) => (b.kind = 'rekord')),
            'rekord',
          ),
        'TLOG_ENTRY_UNSUPPORTED',
      ],
      [
        'an unsupported version',
        () =>
          logged(
            edited((b) => (b.apiVersion = '9.9.9')),
            'hashedrekord',
            '9.9.9',
          ),
        'TLOG_ENTRY_UNSUPPORTED',
      ],
      ['no spec', () => logged(edited((b) => delete b.spec)), 'TLOG_BODY_MALFORMED'],
      [
        'a spec that is an array',
        () => logged(edited((b) => (b.spec = []))),
        'TLOG_BODY_MALFORMED',
      ],
      [
        'a signature that is not base64',
        () => logged(edited((b) => setAt(b, ['spec', 'signature', 'content'], '!!'))),
        'TLOG_BODY_MALFORMED',
      ],
      [
        'another signature',
        () =>
          logged(
            edited((b) => setAt(b, ['spec', 'signature', 'content'], base64(randomBytes(70)))),
          ),
        'TLOG_ENTRY_MISMATCH',
      ],
      [
        'a hash that is not hex',
        () => logged(edited((b) => setAt(b, ['spec', 'data', 'hash', 'value'], 'zz'))),
        'TLOG_BODY_MALFORMED',
      ],
      [
        'a hash that is a number',
        () => logged(edited((b) => setAt(b, ['spec', 'data', 'hash', 'value'], 12))),
        'TLOG_BODY_MALFORMED',
      ],
      [
        'a hash algorithm that is an object',
        () => logged(edited((b) => setAt(b, ['spec', 'data', 'hash', 'algorithm'], {}))),
        'TLOG_BODY_MALFORMED',
      ],
      [
        'another artifact digest',
        () => logged(edited((b) => setAt(b, ['spec', 'data', 'hash', 'value'], 'ab'.repeat(32)))),
        'TLOG_ENTRY_MISMATCH',
      ],
      [
        'an MD5 digest',
        () => logged(edited((b) => setAt(b, ['spec', 'data', 'hash', 'algorithm'], 'md5'))),
        'TLOG_ENTRY_MISMATCH',
      ],
      [
        'a key that is not PEM',
        () =>
          logged(
            edited((b) =>
              setAt(b, ['spec', 'signature', 'publicKey', 'content'], base64('not pem')),
            ),
          ),
        'TLOG_BODY_MALFORMED',
      ],
      [
        'a PEM of garbage',
        () =>
          logged(
            edited((b) =>
              setAt(
                b,
                ['spec', 'signature', 'publicKey', 'content'],
                base64('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'),
              ),
            ),
          ),
        'TLOG_ENTRY_MISMATCH',
      ],
      [
        'a PEM whose body is not base64',
        () =>
          logged(
            edited((b) =>
              setAt(
                b,
                ['spec', 'signature', 'publicKey', 'content'],
                base64('-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n'),
              ),
            ),
          ),
        'TLOG_BODY_MALFORMED',
      ],
      [
        'another certificate',
        () =>
          logged(
            edited((b) =>
              setAt(
                b,
                ['spec', 'signature', 'publicKey', 'content'],
                base64(
                  pemCertificate(
                    pki.trustedRoot.certificateAuthorities[0]!.certChain.certificates[0]!.rawBytes,
                  ),
                ),
              ),
            ),
          ),
        'TLOG_ENTRY_MISMATCH',
      ],
      [
        'a __proto__ key',
        () => logged(JSON.stringify(body).replace('{', '{"__proto__":{"kind":"dsse"},')),
        'VERIFIES' as VerificationErrorCode,
      ],
    ];
    for (const [name, make, code] of CASES) {
      if (code === ('VERIFIES' as VerificationErrorCode)) {
        it(`verifies a body with ${name} (it is plain data)`, () => {
          verify(make(), craftedTrust);
        });
        continue;
      }
      it(`throws ${code} for a body that is ${name}`, () => {
        assertCode(() => verify(make(), craftedTrust), code);
      });
    }

    it('throws TLOG_ENTRY_MISMATCH or TLOG_BODY_MALFORMED for DSSE and intoto bodies of the wrong shape', async () => {
      const env = await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE);
      const dsseBody = JSON.parse(
        Buffer.from(getAt(env, [...ENTRY, 'canonicalizedBody']) as string, 'base64').toString(),
      ) as Record<string, unknown>;
      const intoto = await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, { entryKind: 'intoto' });
      const intotoBody = JSON.parse(
        Buffer.from(getAt(intoto, [...ENTRY, 'canonicalizedBody']) as string, 'base64').toString(),
      ) as Record<string, unknown>;
      const cases: [
        SerializedBundle,
        Record<string, unknown>,
        string,
        (b: Record<string, unknown>) => void,
        VerificationErrorCode,
      ][] = [
        [
          env,
          dsseBody,
          '0.0.1',
          (b) => setAt(b, ['spec', 'signatures'], []),
          'TLOG_ENTRY_MISMATCH',
        ],
        [
          env,
          dsseBody,
          '0.0.1',
          (b) => setAt(b, ['spec', 'signatures', 1], getAt(b, ['spec', 'signatures', 0])),
          'TLOG_ENTRY_MISMATCH',
        ],
        [
          env,
          dsseBody,
          '0.0.1',
          (b) => setAt(b, ['spec', 'signatures'], {}),
          'TLOG_BODY_MALFORMED',
        ],
        [
          env,
          dsseBody,
          '0.0.1',
          (b) => setAt(b, ['spec', 'payloadHash', 'algorithm'], 'md5'),
          'TLOG_ENTRY_MISMATCH',
        ],
        [
          env,
          dsseBody,
          '0.0.1',
          (b) => setAt(b, ['spec', 'payloadHash', 'value'], 'ab'.repeat(32)),
          'TLOG_ENTRY_MISMATCH',
        ],
        [
          env,
          dsseBody,
          '0.0.1',
          (b) => setAt(b, ['spec', 'signatures', 0, 'verifier'], 42),
          'TLOG_BODY_MALFORMED',
        ],
        [
          intoto,
          intotoBody,
          '0.0.2',
          (b) =>
            setAt(
              b,
              ['spec', 'content', 'envelope', 'signatures', 0, 'sig'],
              base64('not base64 inside'),
            ),
          'TLOG_BODY_MALFORMED',
        ],
        [
          intoto,
          intotoBody,
          '0.0.2',
          (b) => setAt(b, ['spec', 'content', 'envelope', 'payloadType'], 'text/plain'),
          'TLOG_ENTRY_MISMATCH',
        ],
        [
          intoto,
          intotoBody,
          '0.0.2',
          (b) => setAt(b, ['spec', 'content'], null),
          'TLOG_BODY_MALFORMED',
        ],
      ];
      for (const [bundle, original, version, edit, code] of cases) {
        const copy = clone(original);
        edit(copy);
        const broken = clone(bundle);
        broken.verificationMaterial.tlogEntries = [
          crafting.append(Buffer.from(JSON.stringify(copy)), String(copy.kind), version, pki.now),
        ];
        assertCode(() => verify(broken, craftedTrust), code);
      }
    });
  });

  describe('when the checkpoint is malformed', () => {
    let note: string;
    let signature: string;
    let lines: string[];
    before(() => {
      const envelope = getAt(message, CHECKPOINT) as string;
      [note, signature] = envelope.split('\n\n') as [string, string];
      lines = note.split('\n');
    });
    const body = (size: string, root = lines[2]!) =>
      [lines[0]!, size, root, ...lines.slice(3)].join('\n');

    const CASES: [string, () => string][] = [
      ['no blank line before the signatures', () => `${note}\n${signature}`],
      ['only a blank line', () => '\n\n'],
      ['no body lines', () => `\n\n${signature}`],
      ['a size that is not a number', () => `${body('abc')}\n\n${signature}`],
      ['a negative size', () => `${body('-1')}\n\n${signature}`],
      ['a size of 20 digits', () => `${body('1'.repeat(20))}\n\n${signature}`],
      ['a size of 10^5 digits', () => `${body('9'.repeat(100_000))}\n\n${signature}`],
      ['the largest 19-digit size, unsigned', () => `${body('9'.repeat(19))}\n\n${signature}`],
      ['a root hash of 4 bytes', () => `${body(lines[1]!, 'AAAA')}\n\n${signature}`],
      [
        'a root hash that is not base64',
        () => `${body(lines[1]!, '*'.repeat(44))}\n\n${signature}`,
      ],
      [
        'a signature that is not base64',
        () => `${note}\n\n\u2014 rekor.sigstore.mock not*base64\n`,
      ],
      [
        'a signature shorter than its key hint',
        () => `${note}\n\n\u2014 rekor.sigstore.mock AAAA\n`,
      ],
      [
        'a signature line without the em dash',
        () => `${note}\n\n${signature.replace('\u2014 ', '- ')}`,
      ],
      ['no signature line', () => `${note}\n\n`],
      [
        '10^5 signature lines that do not verify',
        () => `${note}\n\n${'\u2014 rekor.sigstore.mock AAAAAAAAAAAA\n'.repeat(100_000)}`,
      ],
      ['CRLF line endings', () => `${note}\n\n${signature}`.replace(/\n/g, '\r\n')],
      ['a NUL byte in the note', () => `${note.replace('\n', '\u0000\n')}\n\n${signature}`],
    ];
    for (const [name, make] of CASES) {
      it(`throws TLOG_CHECKPOINT_INVALID for ${name}`, () => {
        assertCode(() => verify(withValue(message, CHECKPOINT, make())), 'TLOG_CHECKPOINT_INVALID');
      });
    }

    it('throws TLOG_CHECKPOINT_INVALID for a signature line naming only part of the log', () => {
      // Broken: the signed-note key name must be the log's own ("rekor.sigstore.mock"), not "mock".
      const renamed = signature.replace(/^\u2014 \S+ /, '\u2014 mock ');
      assertCode(
        () => verify(withValue(message, CHECKPOINT, `${note}\n\n${renamed}`)),
        'TLOG_CHECKPOINT_INVALID',
      );
    });

    it('throws MALFORMED_BUNDLE for an empty checkpoint', () => {
      assertCode(() => verify(withValue(message, CHECKPOINT, '')), 'MALFORMED_BUNDLE');
    });
  });

  describe('when the inclusion proof is malformed', () => {
    it('throws TLOG_INCLUSION_PROOF_INVALID for hashes of the wrong length', () => {
      for (const length of [0, 1, 31, 33, 64]) {
        // Broken: one audit-path hash is not 32 bytes.
        const broken = withValue(message, [...PROOF, 'hashes', 0], base64(Buffer.alloc(length, 1)));
        assertCode(() => verify(broken), 'TLOG_INCLUSION_PROOF_INVALID');
      }
    });

    it('throws TLOG_INCLUSION_PROOF_INVALID for 64 hashes (more than the tree needs)', () => {
      const hashes = Array.from({ length: 64 }, () => base64(randomBytes(32)));
      assertCode(
        () => verify(withValue(message, [...PROOF, 'hashes'], hashes)),
        'TLOG_INCLUSION_PROOF_INVALID',
      );
    });

    it('throws TLOG_INCLUSION_PROOF_INVALID for no hashes', () => {
      assertCode(
        () => verify(withValue(message, [...PROOF, 'hashes'], [])),
        'TLOG_INCLUSION_PROOF_INVALID',
      );
    });

    it('throws TLOG_INCLUSION_PROOF_INVALID for the largest 19-digit leaf index', () => {
      assertCode(
        () => verify(withValue(message, [...PROOF, 'logIndex'], '9'.repeat(19))),
        'TLOG_INCLUSION_PROOF_INVALID',
      );
    });

    it('throws TLOG_CHECKPOINT_MISMATCH for a tree size of 0 or 19 digits', () => {
      for (const size of ['0', '9'.repeat(19)]) {
        assertCode(
          () => verify(withValue(message, [...PROOF, 'treeSize'], size)),
          'TLOG_CHECKPOINT_MISMATCH',
        );
      }
    });
  });

  describe('when the RFC 3161 timestamp is malformed', () => {
    it('throws TIMESTAMP_INVALID when truncated (every third length, and the last byte)', () => {
      const der = Buffer.from(getAt(message, TIMESTAMP) as string, 'base64');
      for (const n of [...truncations(der.length, 3), der.length - 1]) {
        assertCode(
          () => verify(withValue(message, TIMESTAMP, base64(der.subarray(0, n)))),
          'TIMESTAMP_INVALID',
        );
      }
    });

    it('throws TIMESTAMP_INVALID for garbage', () => {
      for (const bytes of [
        randomBytes(600),
        Buffer.from('3084ffffffff', 'hex'),
        Buffer.from(deepDer(1000)),
        Buffer.alloc(0),
      ]) {
        assertCode(() => verify(withValue(message, TIMESTAMP, base64(bytes))), 'TIMESTAMP_INVALID');
      }
    });

    it('throws TIMESTAMP_INVALID for a genTime that is not a date', () => {
      const der = Buffer.from(getAt(message, TIMESTAMP) as string, 'base64');
      // Broken: the GeneralizedTime "YYYYMMDDhhmmssZ" given month 9x, which is no date.
      const genTime = der.indexOf(Buffer.from([0x18, 0x0f]));
      assert.ok(genTime > 0);
      der[genTime + 2 + 4] = 0x39;
      assertCode(() => verify(withValue(message, TIMESTAMP, base64(der))), 'TIMESTAMP_INVALID');
    });
  });

  describe('when a field is huge', () => {
    it('throws SIGNATURE_INVALID for an 8 MiB DSSE payload under the original signature', () => {
      const huge = withValue(
        dsse,
        ['dsseEnvelope', 'payload'],
        base64(Buffer.alloc(8 * MiB, 0x20)),
      );
      assertCode(() => verify(huge), 'SIGNATURE_INVALID');
    });

    it('throws SIGNATURE_INVALID for a 1 MiB signature', () => {
      const huge = withValue(
        message,
        ['messageSignature', 'signature'],
        base64(Buffer.alloc(MiB, 1)),
      );
      assertCode(() => verify(huge), 'SIGNATURE_INVALID');
    });

    it('throws ARTIFACT_DIGEST_MISMATCH for a 1 MiB message digest', () => {
      const huge = withValue(
        message,
        ['messageSignature', 'messageDigest', 'digest'],
        base64(Buffer.alloc(MiB, 1)),
      );
      assertCode(() => verify(huge), 'ARTIFACT_DIGEST_MISMATCH');
    });

    it('throws TLOG_SET_INVALID for a 5 MiB unlogged body', () => {
      const huge = withValue(
        message,
        [...ENTRY, 'canonicalizedBody'],
        base64(Buffer.alloc(5 * MiB, 0x20)),
      );
      assertCode(() => verify(huge), 'TLOG_SET_INVALID');
    });

    it('throws TLOG_UNKNOWN_LOG for a 1 MiB log ID', () => {
      const huge = withValue(message, [...ENTRY, 'logId', 'keyId'], base64(Buffer.alloc(MiB, 1)));
      assertCode(() => verify(huge), 'TLOG_UNKNOWN_LOG');
    });

    it('keeps the error message short when an attacker-controlled field is huge', async () => {
      const keyed = await pki.signMessage(ARTIFACT, { signer: { key: 'ecdsa-p256' } });
      const cases: [SerializedBundle, JsonPath, unknown, VerificationErrorCode][] = [
        [
          message,
          ['messageSignature', 'messageDigest', 'digest'],
          base64(Buffer.alloc(MiB, 1)),
          'ARTIFACT_DIGEST_MISMATCH',
        ],
        [message, [...ENTRY, 'logId', 'keyId'], base64(Buffer.alloc(MiB, 1)), 'TLOG_UNKNOWN_LOG'],
        [keyed, ['verificationMaterial', 'publicKey', 'hint'], 'k'.repeat(MiB), 'KEY_NOT_FOUND'],
      ];
      for (const [bundle, path, value, code] of cases) {
        assert.throws(
          () => verify(withValue(bundle, path, value)),
          (err: unknown) =>
            isVerificationError(err) && err.code === code && err.message.length < 4096,
        );
      }
    });

    it('throws NESTING_TOO_DEEP for a signed payload nested 10^5 deep', async () => {
      const deep = await pki.signDsse(Buffer.from(deepArray(DEEP)), IN_TOTO_PAYLOAD_TYPE);
      assertCode(() => verify(deep), 'NESTING_TOO_DEEP');
    });

    it('throws MALFORMED_JSON for a signed payload that is not JSON', async () => {
      const bad = await pki.signDsse(Buffer.from('{"_type":'), IN_TOTO_PAYLOAD_TYPE);
      assertCode(() => verify(bad), 'MALFORMED_JSON');
    });
  });
});

const PREDICATE = 'https://slsa.dev/provenance/v1';

async function setUp(): Promise<void> {
  if (pki !== undefined) return;
  pki = await createTestPki();
  trust = trustFor(pki);
  crafting = createCraftingLog();
  craftedTrust = trustFor(pki, crafting.trust(pki.trustedRoot));
  message = await pki.signMessage(ARTIFACT, { timestamp: true });
  dsse = await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, {
    bundleVersion: '0.2',
    fullChain: true,
  });
}

function assertCodeAndLine(fn: () => unknown, code: VerificationErrorCode, line: number): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isVerificationError(err), `expected a VerificationError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    // Which line is bad is the point here, not the wording around it.
    assert.match(err.message, new RegExp(`\\bline ${line}\\b`));
    return true;
  });
}

// `depth` nested SEQUENCEs, innermost empty: DER that recurses as deep as a parser lets it.
function deepDer(depth: number): Uint8Array {
  let der = Buffer.from([0x30, 0x00]);
  for (let i = 1; i < depth; i++) {
    const len = der.length;
    const header =
      len < 0x80
        ? Buffer.from([0x30, len])
        : len < 0x100
          ? Buffer.from([0x30, 0x81, len])
          : Buffer.from([0x30, 0x82, len >> 8, len & 0xff]);
    der = Buffer.concat([header, der]);
  }
  return der;
}

/** 0, step, 2 * step, ... below length. */
function truncations(length: number, step: number): number[] {
  return Array.from({ length: Math.ceil(length / step) }, (_, i) => i * step);
}

function pemCertificate(b64: string): string {
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}
