// Proves the test PKI's bundles are real: each one is verified by the
// reference implementation, @sigstore/verify, and deliberate breakages are
// rejected by it with the error the breakage calls for.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { bundleFromJSON, ValidationError, type SerializedBundle } from '@sigstore/bundle';
import { dsse, pem, RFC3161Timestamp, X509Certificate } from '@sigstore/core';
import { PublicKey, TrustedRoot } from '@sigstore/protobuf-specs';
import {
  PolicyError,
  toSignedEntity,
  toTrustMaterial,
  VerificationError,
  Verifier,
  type Signer,
} from '@sigstore/verify';
import {
  createTestPki,
  DEFAULT_CLAIMS,
  DEFAULT_ISSUER,
  DEFAULT_SAN,
  FULCIO_OIDS,
  inTotoStatement,
  IN_TOTO_PAYLOAD_TYPE,
  type BundleVersion,
  type DigestAlgorithm,
  type EntryKind,
  type KeyType,
  type ProofKind,
  type SignOptions,
  type TestPki,
  type TestPkiOptions,
  type TlogKind,
} from './pki.ts';

const ARTIFACT = Buffer.from('artifact bytes\n');
const STATEMENT = inTotoStatement(
  [{ name: 'pkg:npm/example@1.0.0', digest: { sha512: 'ab'.repeat(64) } }],
  'https://slsa.dev/provenance/v1',
  { buildDefinition: { buildType: 'https://example.com/build@v1' } },
);
const KEY_TYPES: KeyType[] = ['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa'];
const VERSIONS: BundleVersion[] = ['0.1', '0.2', '0.3', '0.3-legacy'];
const SCT_OID = '1.3.6.1.4.1.11129.2.4.2';

type ContentKind = 'message' | 'dsse';

interface Case {
  content: ContentKind;
  opts: SignOptions;
}

interface Expected {
  tlogs: number;
  scts: number;
  timestamps: number;
}

describe('createTestPki', () => {
  let pki: TestPki;
  before(async () => {
    pki = await createTestPki();
  });

  describe('trustedRoot', () => {
    it('parses as a TrustedRoot: one CA, Rekor v1 and v2, one CT log, one TSA', () => {
      const root = TrustedRoot.fromJSON(pki.trustedRoot);
      assert.equal(root.mediaType, 'application/vnd.dev.sigstore.trustedroot+json;version=0.1');
      assert.equal(root.certificateAuthorities.length, 1);
      assert.equal(root.tlogs.length, 2);
      assert.equal(root.ctlogs.length, 1);
      assert.equal(root.timestampAuthorities.length, 1);
      assert.equal(root.timestampAuthorities[0]?.certChain?.certificates.length, 2);
    });

    it('names Rekor v1 by sha256(SPKI) and Rekor v2 by its checkpoint key ID', () => {
      const [v1, v2] = pki.trustedRoot.tlogs;
      assert.ok(v1 && v2);
      assert.equal(v1.logId.keyId, sha256(Buffer.from(v1.publicKey.rawBytes, 'base64')));
      assert.equal(v2.publicKey.keyDetails, 'PKIX_ED25519');
      const raw = Buffer.from(v2.publicKey.rawBytes, 'base64').subarray(-32);
      const name = Buffer.from(`${new URL(v2.baseUrl).host}\n`);
      assert.equal(v2.logId.keyId, sha256(Buffer.concat([name, Buffer.from([0x01]), raw])));
    });

    it('writes the validFor windows it is given', async () => {
      const start = new Date('2020-01-01T00:00:00Z');
      const end = new Date('2030-01-01T00:00:00Z');
      const other = await createTestPki({ caValidFor: { start, end }, tlogValidFor: { start } });
      assert.deepEqual(other.trustedRoot.certificateAuthorities[0]?.validFor, {
        start: start.toISOString(),
        end: end.toISOString(),
      });
      assert.deepEqual(other.trustedRoot.tlogs[1]?.publicKey.validFor, {
        start: start.toISOString(),
      });
    });
  });

  describe('when given now', () => {
    it('issues certificates, integrated times and timestamps at that second', async () => {
      const now = new Date(Date.now() + 86_400_000 + 123);
      const later = await createTestPki({ now });
      const second = Math.floor(now.getTime() / 1000);
      assert.equal(later.now.getTime(), second * 1000);
      const bundle = await later.signMessage(ARTIFACT, { timestamp: true });
      assert.equal(leafOf(bundle).notBefore.getTime(), second * 1000);
      assert.equal(bundle.verificationMaterial.tlogEntries[0]?.integratedTime, String(second));
      const tsa = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps[0];
      const signingTime = RFC3161Timestamp.parse(
        Buffer.from(tsa?.signedTimestamp ?? '', 'base64'),
      ).signingTime;
      assert.equal(signingTime.getTime(), second * 1000);
      verifyKeyless(later, bundle, { timestamps: 2 });
    });
  });

  describe('bundles verified by @sigstore/verify', () => {
    for (const c of validCases()) {
      it(caseName(c), async () => {
        const bundle = await sign(pki, c);
        const signer = verifyWithReference(pki, bundle, c.content, expectations(c));
        if (c.opts.signer === 'keyless') {
          assert.equal(signer.identity?.subjectAlternativeName, DEFAULT_SAN);
          assert.equal(signer.identity?.extensions?.issuer, DEFAULT_ISSUER);
        }
      });
    }
  });

  describe('keyless leaf certificate', () => {
    it('carries the SAN and the claims as Fulcio encodes them', async () => {
      const claims = {
        ...DEFAULT_CLAIMS,
        [FULCIO_OIDS.githubWorkflowRepository]: 'octo-org/octo-repo',
        [FULCIO_OIDS.sourceRepositoryURI]: 'https://github.com/octo-org/octo-repo',
      };
      const san = 'https://github.com/octo-org/octo-repo/.github/workflows/ci.yml@refs/tags/v1';
      const bundle = await pki.signMessage(ARTIFACT, { san, claims });
      const cert = leafOf(bundle);
      assert.equal(cert.subjectAltName, san);
      assert.equal(cert.extSubjectAltName?.uri, san);
      // 1.1-1.6: the raw string; 1.8 and later: a DER UTF8String.
      assert.deepEqual(ext(cert, FULCIO_OIDS.issuerV1), Buffer.from(DEFAULT_ISSUER));
      assert.deepEqual(
        ext(cert, FULCIO_OIDS.githubWorkflowRepository),
        Buffer.from('octo-org/octo-repo'),
      );
      assert.deepEqual(ext(cert, FULCIO_OIDS.issuer), utf8String(DEFAULT_ISSUER));
      assert.deepEqual(
        ext(cert, FULCIO_OIDS.sourceRepositoryURI),
        utf8String('https://github.com/octo-org/octo-repo'),
      );
      const signer = verifyKeyless(pki, bundle, { policy: { subjectAlternativeName: san } });
      assert.equal(signer.identity?.subjectAlternativeName, san);
    });

    it('chains to the CA root in the trusted root', async () => {
      const cert = leafOf(await pki.signMessage(ARTIFACT));
      const root = X509Certificate.parse(
        Buffer.from(
          pki.trustedRoot.certificateAuthorities[0]?.certChain.certificates[0]?.rawBytes ?? '',
          'base64',
        ),
      );
      assert.ok(cert.verify(root));
      assert.ok(cert.validForDate(pki.now));
    });

    it('embeds an SCT unless sct is false', async () => {
      assert.ok(leafOf(await pki.signMessage(ARTIFACT)).extension(SCT_OID));
      const bundle = await pki.signMessage(ARTIFACT, { sct: false });
      assert.equal(leafOf(bundle).extension(SCT_OID), undefined);
      const c: Case = { content: 'message', opts: { sct: false } };
      verifyWithReference(pki, bundle, c.content, { tlogs: 1, scts: 0, timestamps: 1 });
      assertRejected(
        () => verifyWithReference(pki, bundle, c.content, { tlogs: 1, scts: 1, timestamps: 1 }),
        'CERTIFICATE_ERROR',
      );
    });

    it('puts leaf and root in x509CertificateChain with fullChain', async () => {
      for (const bundleVersion of ['0.1', '0.2'] as const) {
        const c: Case = { content: 'dsse', opts: { bundleVersion, fullChain: true } };
        const bundle = await sign(pki, c);
        assert.equal(bundle.verificationMaterial.x509CertificateChain?.certificates.length, 2);
        verifyWithReference(pki, bundle, c.content, { tlogs: 1, scts: 1, timestamps: 1 });
      }
    });
  });

  describe('tlog entries', () => {
    it('carry Rekor v1 checkpoints with tree ID and timestamp, v2 ones named by host', async () => {
      const v1 = (await pki.signMessage(ARTIFACT)).verificationMaterial.tlogEntries[0];
      const v2 = (await pki.signMessage(ARTIFACT, { tlog: 'rekor-v2' })).verificationMaterial
        .tlogEntries[0];
      assert.match(
        v1?.inclusionProof?.checkpoint.envelope ?? '',
        /^rekor\.sigstore\.mock - \d+\n\d+\n\S+\nTimestamp: \d+\n\n\u2014 rekor\.sigstore\.mock \S+\n$/,
      );
      assert.match(
        v2?.inclusionProof?.checkpoint.envelope ?? '',
        /^log2025-1\.rekor\.sigstore\.mock\n\d+\n\S+\n\n\u2014 log2025-1\.rekor\.sigstore\.mock \S+\n$/,
      );
      // Rekor v2 has no integrated time and no SET; its log index is the tree index.
      assert.equal(v2?.integratedTime, undefined);
      assert.equal(v2?.inclusionPromise, undefined);
      assert.equal(v2?.logIndex, v2?.inclusionProof?.logIndex);
      assert.ok((v1?.inclusionProof?.hashes.length ?? 0) > 0);
    });

    it('store the Rekor body for each kind', async () => {
      const kinds = [
        [await pki.signMessage(ARTIFACT), 'hashedrekord', '0.0.1'],
        [await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE), 'dsse', '0.0.1'],
        [
          await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, { entryKind: 'intoto' }),
          'intoto',
          '0.0.2',
        ],
        [await pki.signMessage(ARTIFACT, { tlog: 'rekor-v2' }), 'hashedrekord', '0.0.2'],
        [
          await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, { tlog: 'rekor-v2' }),
          'dsse',
          '0.0.2',
        ],
      ] as const;
      for (const [bundle, kind, apiVersion] of kinds) {
        const entry = bundle.verificationMaterial.tlogEntries[0];
        assert.deepEqual(entry?.kindVersion, { kind, version: apiVersion });
        const body = JSON.parse(
          Buffer.from(entry?.canonicalizedBody ?? '', 'base64').toString(),
        ) as Record<string, unknown>;
        assert.equal(body.kind, kind);
        assert.equal(body.apiVersion, apiVersion);
      }
    });
  });

  describe('when a bundle is broken, @sigstore/verify', () => {
    const keyOnly: Case = {
      content: 'message',
      opts: { signer: { key: 'ecdsa-p256' }, tlog: 'none', timestamp: false },
    };
    const nothing: Expected = { tlogs: 0, scts: 0, timestamps: 0 };

    it('rejects a flipped signature byte (tlog body: TLOG_BODY_ERROR; alone: SIGNATURE_ERROR)', async () => {
      const logged = await pki.signMessage(ARTIFACT);
      logged.messageSignature = flipSignature(logged.messageSignature);
      assertRejected(() => verifyKeyless(pki, logged), 'TLOG_BODY_ERROR');
      const bare = await sign(pki, keyOnly);
      bare.messageSignature = flipSignature(bare.messageSignature);
      assertRejected(
        () => verifyWithReference(pki, bare, keyOnly.content, nothing),
        'SIGNATURE_ERROR',
      );
    });

    it('rejects an altered DSSE payload (TLOG_BODY_ERROR; alone: SIGNATURE_ERROR)', async () => {
      const logged = await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE);
      assert.ok(logged.dsseEnvelope);
      logged.dsseEnvelope.payload = Buffer.from('{"_type":"other"}').toString('base64');
      assertRejected(() => verifyKeyless(pki, logged, { content: 'dsse' }), 'TLOG_BODY_ERROR');
      const c: Case = { content: 'dsse', opts: keyOnly.opts };
      const bare = await sign(pki, c);
      assert.ok(bare.dsseEnvelope);
      bare.dsseEnvelope.payload = Buffer.from('{"_type":"other"}').toString('base64');
      assertRejected(() => verifyWithReference(pki, bare, c.content, nothing), 'SIGNATURE_ERROR');
    });

    it('rejects a different artifact (SIGNATURE_ERROR)', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      assertRejected(
        () => verifyKeyless(pki, bundle, { artifact: Buffer.from('other') }),
        'SIGNATURE_ERROR',
      );
    });

    it('rejects another identity (PolicyError UNTRUSTED_SIGNER_ERROR)', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      const policy = {
        subjectAlternativeName:
          'https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main',
      };
      assert.throws(
        () => verifyKeyless(pki, bundle, { policy }),
        (e: unknown) => e instanceof PolicyError && e.code === 'UNTRUSTED_SIGNER_ERROR',
      );
    });

    it('rejects a bundle from another PKI (CERTIFICATE_ERROR)', async () => {
      const other = await createTestPki();
      const bundle = await other.signMessage(ARTIFACT);
      assertRejected(() => verifyKeyless(pki, bundle), 'CERTIFICATE_ERROR');
    });

    it('rejects a tampered SET (TLOG_INCLUSION_PROMISE_ERROR)', async () => {
      const bundle = await pki.signMessage(ARTIFACT, {
        bundleVersion: '0.1',
        proof: 'inclusion-promise',
      });
      const entry = bundle.verificationMaterial.tlogEntries[0];
      assert.ok(entry?.inclusionPromise);
      entry.inclusionPromise.signedEntryTimestamp = flipBase64(
        entry.inclusionPromise.signedEntryTimestamp,
      );
      assertRejected(() => verifyKeyless(pki, bundle), 'TLOG_INCLUSION_PROMISE_ERROR');
    });

    it('rejects a tampered audit path or checkpoint (TLOG_INCLUSION_PROOF_ERROR)', async () => {
      for (const tlog of ['rekor-v1', 'rekor-v2'] as const) {
        const opts: SignOptions = { tlog, proof: 'inclusion-proof', timestamp: true };
        const path = await pki.signMessage(ARTIFACT, opts);
        const proof = path.verificationMaterial.tlogEntries[0]?.inclusionProof;
        assert.ok(proof?.hashes[0]);
        proof.hashes[0] = flipBase64(proof.hashes[0]);
        assertRejected(() => verifyKeyless(pki, path), 'TLOG_INCLUSION_PROOF_ERROR');

        const note = await pki.signMessage(ARTIFACT, opts);
        const checkpoint = note.verificationMaterial.tlogEntries[0]?.inclusionProof?.checkpoint;
        assert.ok(checkpoint);
        checkpoint.envelope = checkpoint.envelope.replace(
          /\n\d+\n/,
          (m) => `\n${Number(m.trim()) + 1}\n`,
        );
        assertRejected(() => verifyKeyless(pki, note), 'TLOG_INCLUSION_PROOF_ERROR');
      }
    });

    it("rejects another signature's RFC 3161 timestamp (TIMESTAMP_ERROR)", async () => {
      const opts: SignOptions = { tlog: 'rekor-v2' };
      const bundle = await pki.signMessage(ARTIFACT, opts);
      const other = await pki.signMessage(ARTIFACT, opts);
      bundle.verificationMaterial.timestampVerificationData =
        other.verificationMaterial.timestampVerificationData;
      assertRejected(() => verifyKeyless(pki, bundle), 'TIMESTAMP_ERROR');
    });

    it('rejects signing times outside the trusted root validFor windows', async () => {
      const later = { start: new Date(Date.now() + 3_600_000) };
      const earlier = { start: new Date(0), end: new Date(Date.now() - 3_600_000) };
      const cases: [TestPkiOptions, SignOptions, string][] = [
        [{ caValidFor: later }, {}, 'CERTIFICATE_ERROR'],
        [
          { tlogValidFor: earlier },
          { bundleVersion: '0.1', proof: 'inclusion-promise' },
          'TLOG_INCLUSION_PROMISE_ERROR',
        ],
        [{ ctlogValidFor: earlier }, {}, 'CERTIFICATE_ERROR'],
        [{ tsaValidFor: later }, { tlog: 'rekor-v2' }, 'TIMESTAMP_ERROR'],
      ];
      for (const [pkiOpts, opts, code] of cases) {
        const windowed = await createTestPki(pkiOpts);
        const bundle = await windowed.signMessage(ARTIFACT, opts);
        assertRejected(() => verifyKeyless(windowed, bundle), code);
      }
    });
  });

  describe('bundles the spec forbids, produced as broken fixtures', () => {
    const cases: [string, SignOptions][] = [
      [
        'v0.1 without an inclusion promise',
        { bundleVersion: '0.1', proof: 'inclusion-proof', timestamp: true },
      ],
      ['v0.2 without an inclusion proof', { bundleVersion: '0.2', proof: 'inclusion-promise' }],
      ['v0.3 with a certificate chain', { bundleVersion: '0.3', fullChain: true }],
    ];
    for (const [name, opts] of cases) {
      it(`are refused by bundleFromJSON: ${name}`, async () => {
        const bundle = await pki.signMessage(ARTIFACT, opts);
        assert.throws(() => bundleFromJSON(bundle), ValidationError);
      });
    }
  });

  // Fixtures that are right but that @sigstore/verify 4 cannot check. Each
  // case is rejected at the signature step only (its last check, so every
  // timestamp, certificate and tlog check before it passed), and node:crypto
  // accepts the signature.
  describe('where @sigstore/verify falls short', () => {
    it('Ed25519 message signatures: it hashes the message first, as for ECDSA/RSA', async () => {
      const c: Case = { content: 'message', opts: { signer: { key: 'ed25519' } } };
      const bundle = await sign(pki, c);
      assertRejected(
        () => verifyWithReference(pki, bundle, c.content, expectations(c)),
        'SIGNATURE_ERROR',
      );
      const signature = Buffer.from(bundle.messageSignature?.signature ?? '', 'base64');
      assert.ok(cryptoVerify(null, ARTIFACT, publicKeyOf(pki, 'ed25519'), signature));
    });

    for (const key of ['ecdsa-p256', 'ecdsa-p384', 'rsa'] as const) {
      for (const digestAlgorithm of ['sha384', 'sha512'] as const) {
        it(`DSSE signed with ${key} over ${digestAlgorithm}: it verifies PAE with SHA-256`, async () => {
          const c: Case = { content: 'dsse', opts: { signer: { key }, digestAlgorithm } };
          const bundle = await sign(pki, c);
          assertRejected(
            () => verifyWithReference(pki, bundle, c.content, expectations(c)),
            'SIGNATURE_ERROR',
          );
          const env = bundle.dsseEnvelope;
          assert.ok(env?.signatures[0]);
          const pae = dsse.preAuthEncoding(env.payloadType, Buffer.from(env.payload, 'base64'));
          const sig = Buffer.from(env.signatures[0].sig, 'base64');
          assert.ok(cryptoVerify(digestAlgorithm, pae, publicKeyOf(pki, key), sig));
        });
      }
    }
  });

  describe('signEnvelope', () => {
    for (const key of KEY_TYPES) {
      it(`signs a bare DSSE envelope with ${key}, keyid = hint`, () => {
        const env = pki.signEnvelope(STATEMENT, IN_TOTO_PAYLOAD_TYPE, { key, hint: `bare-${key}` });
        assert.equal(env.signatures[0]?.keyid, `bare-${key}`);
        assert.deepEqual(Buffer.from(env.payload, 'base64'), STATEMENT);
        const pae = dsse.preAuthEncoding(env.payloadType, STATEMENT);
        const sig = Buffer.from(env.signatures[0]?.sig ?? '', 'base64');
        const digest = key === 'ed25519' ? null : 'sha256';
        assert.ok(cryptoVerify(digest, pae, publicKeyOf(pki, `bare-${key}`), sig));
      });
    }

    it('refuses a hint that names a key of another type', () => {
      assert.throws(() =>
        pki.signEnvelope(STATEMENT, IN_TOTO_PAYLOAD_TYPE, { key: 'rsa', hint: 'ed25519' }),
      );
    });
  });

  describe('inTotoStatement', () => {
    it('writes the v1 and v0.1 statement types', () => {
      const v01 = JSON.parse(inTotoStatement([], 'x', {}, 'v0.1').toString()) as { _type: string };
      const v1 = JSON.parse(STATEMENT.toString()) as { _type: string; subject: unknown[] };
      assert.equal(v01._type, 'https://in-toto.io/Statement/v0.1');
      assert.equal(v1._type, 'https://in-toto.io/Statement/v1');
      assert.equal(v1.subject.length, 1);
    });
  });

  describe('combinations Rekor or the mock cannot produce', () => {
    const cases: [string, ContentKind, SignOptions][] = [
      ['a DSSE hashedrekord entry', 'dsse', { entryKind: 'hashedrekord' }],
      ['a message dsse entry', 'message', { entryKind: 'dsse' }],
      ['an intoto entry on Rekor v2', 'dsse', { tlog: 'rekor-v2', entryKind: 'intoto' }],
      ['an inclusion promise on Rekor v2', 'message', { tlog: 'rekor-v2', proof: 'both' }],
      ['an e-mail SAN', 'message', { san: 'someone@example.com' }],
    ];
    for (const [name, content, opts] of cases) {
      it(`throw: ${name}`, async () => {
        await assert.rejects(sign(pki, { content, opts }));
      });
    }

    it('throw for a now outside the mock roots validity', async () => {
      await assert.rejects(createTestPki({ now: new Date('2020-01-01T00:00:00Z') }));
    });
  });
});

// Every combination that makes sense and that @sigstore/verify supports.
function validCases(): Case[] {
  const cases: Case[] = [];
  const signers: SignOptions['signer'][] = ['keyless', ...KEY_TYPES.map((key) => ({ key }))];
  for (const bundleVersion of VERSIONS) {
    for (const content of ['message', 'dsse'] as const) {
      for (const [tlog, entryKind, proof] of tlogShapes(content)) {
        // v0.1 needs an inclusion promise on every entry, v0.2+ an inclusion proof.
        if (bundleVersion === '0.1' && tlog !== 'none' && proof === 'inclusion-proof') continue;
        if (bundleVersion !== '0.1' && tlog !== 'none' && proof === 'inclusion-promise') continue;
        for (const signer of signers) {
          // Ed25519 message signatures: see "where @sigstore/verify falls short".
          if (content === 'message' && signer !== 'keyless' && signer?.key === 'ed25519') continue;
          for (const timestamp of [false, true]) {
            const digests: DigestAlgorithm[] =
              content === 'message' ? ['sha256', 'sha384', 'sha512'] : ['sha256'];
            for (const digestAlgorithm of digests) {
              const c: Case = {
                content,
                opts: { bundleVersion, tlog, entryKind, proof, signer, timestamp, digestAlgorithm },
              };
              // A certificate needs a verified time to be checked against.
              if (signer === 'keyless' && expectations(c).timestamps === 0) continue;
              cases.push(c);
            }
          }
        }
      }
    }
  }
  return cases;
}

function tlogShapes(
  content: ContentKind,
): [TlogKind, EntryKind | undefined, ProofKind | undefined][] {
  const kinds: EntryKind[] = content === 'message' ? ['hashedrekord'] : ['dsse', 'intoto'];
  const proofs: ProofKind[] = ['inclusion-proof', 'inclusion-promise', 'both'];
  return [
    ...kinds.flatMap((kind) =>
      proofs.map((p): [TlogKind, EntryKind, ProofKind] => ['rekor-v1', kind, p]),
    ),
    ['rekor-v2', kinds[0], 'inclusion-proof'],
    ['none', undefined, undefined],
  ];
}

function expectations(c: Case): Expected {
  const { tlog = 'rekor-v1', proof, signer = 'keyless', sct = true } = c.opts;
  const promise = tlog === 'rekor-v1' && (proof ?? 'both') !== 'inclusion-proof';
  const timestamp = c.opts.timestamp ?? tlog !== 'rekor-v1';
  return {
    tlogs: tlog === 'none' ? 0 : 1,
    scts: signer === 'keyless' && sct ? 1 : 0,
    // Only an entry with a SET gives a verified integrated time.
    timestamps: (timestamp ? 1 : 0) + (promise ? 1 : 0),
  };
}

function caseName(c: Case): string {
  const o = c.opts;
  const signer = o.signer === 'keyless' || o.signer === undefined ? 'keyless' : o.signer.key;
  const entry = o.tlog === 'none' ? 'no tlog' : `${o.tlog} ${o.entryKind} ${o.proof}`;
  return [
    `v${o.bundleVersion}`,
    c.content,
    entry,
    signer,
    o.timestamp ? 'tsa' : 'no tsa',
    o.digestAlgorithm,
  ].join(', ');
}

async function sign(pki: TestPki, c: Case): Promise<SerializedBundle> {
  return c.content === 'message'
    ? pki.signMessage(ARTIFACT, c.opts)
    : pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, c.opts);
}

type Policy = Parameters<Verifier['verify']>[1];

// Thresholds are exact, so each tlog entry, SCT and timestamp the case puts in must verify.
function verifyWithReference(
  pki: TestPki,
  bundle: SerializedBundle,
  content: ContentKind,
  expected: Expected,
  opts: { policy?: Policy; artifact?: Buffer } = {},
): Signer {
  const keys = Object.fromEntries(
    Object.entries(pki.publicKeys).map(([hint, k]) => [
      hint,
      PublicKey.fromJSON({
        rawBytes: pem.toDER(k.pem).toString('base64'),
        keyDetails: k.keyDetails,
      }),
    ]),
  );
  const trust = toTrustMaterial(TrustedRoot.fromJSON(pki.trustedRoot), keys);
  const verifier = new Verifier(trust, {
    tlogThreshold: expected.tlogs,
    ctlogThreshold: expected.scts,
    timestampThreshold: expected.timestamps,
  });
  const artifact = content === 'message' ? (opts.artifact ?? ARTIFACT) : undefined;
  const entity = toSignedEntity(bundleFromJSON(bundle), artifact);
  const keyless = bundle.verificationMaterial.publicKey === undefined;
  const identity = { subjectAlternativeName: DEFAULT_SAN, extensions: { issuer: DEFAULT_ISSUER } };
  return verifier.verify(entity, opts.policy ?? (keyless ? identity : {}));
}

// A keyless bundle with one tlog entry and one SCT; by default one verified time.
function verifyKeyless(
  pki: TestPki,
  bundle: SerializedBundle,
  opts: { content?: ContentKind; timestamps?: number; policy?: Policy; artifact?: Buffer } = {},
): Signer {
  const expected = { tlogs: 1, scts: 1, timestamps: opts.timestamps ?? 1 };
  return verifyWithReference(pki, bundle, opts.content ?? 'message', expected, opts);
}

function assertRejected(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof VerificationError, `expected a VerificationError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

function flipSignature<T extends { signature: string } | undefined>(sig: T): T {
  assert.ok(sig);
  return { ...sig, signature: flipBase64(sig.signature) };
}

function flipBase64(b64: string): string {
  const bytes = Buffer.from(b64, 'base64');
  bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 0x01;
  return bytes.toString('base64');
}

function leafOf(bundle: SerializedBundle): X509Certificate {
  const vm = bundle.verificationMaterial;
  const raw = vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates[0]?.rawBytes;
  assert.ok(raw, 'bundle has no certificate');
  return X509Certificate.parse(Buffer.from(raw, 'base64'));
}

function ext(cert: X509Certificate, oid: string): Buffer | undefined {
  return cert.extension(oid)?.value;
}

function utf8String(value: string): Buffer {
  const bytes = Buffer.from(value);
  assert.ok(bytes.length < 128);
  return Buffer.concat([Buffer.from([0x0c, bytes.length]), bytes]);
}

function publicKeyOf(pki: TestPki, hint: string) {
  const key = pki.publicKeys[hint];
  assert.ok(key, `no key ${hint}`);
  return createPublicKey(key.pem);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('base64');
}
