// verifyAttestation against bundles from a test PKI generated at test time:
// every valid shape (bundle version x content x log x signer x artifact mode),
// then one broken copy per failure class, each asserting its error code.
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import type { SerializedBundle } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { buildTrustMaterial, type TrustMaterial } from '../../src/trust/index.ts';
import {
  parseAttestations,
  verifyAttestation,
  type Artifact,
  type VerifiedAttestation,
  type VerifyOptions,
} from '../../src/verify/index.ts';
import {
  createTestPki,
  DEFAULT_ISSUER,
  DEFAULT_SAN,
  FULCIO_OIDS,
  inTotoStatement,
  IN_TOTO_PAYLOAD_TYPE,
  type BundleVersion,
  type EntryKind,
  type KeyType,
  type SerializedTrustedRoot,
  type SignOptions,
  type TestPki,
  type TlogKind,
} from '../support/pki.ts';
import {
  ARTIFACT,
  assertCode,
  base64,
  BYTES,
  clone,
  DIGEST_SHA256,
  DIGEST_SHA512,
  flipBase64,
  OTHER_ARTIFACT,
  PREDICATE_TYPE,
  SHA256,
  SHA512,
  STATEMENT,
  SUBJECT_NAME,
  trustFor,
  verifyDocument,
} from './support/fixtures.ts';

const HOUR = 3_600_000;
const VERSIONS: BundleVersion[] = ['0.1', '0.2', '0.3', '0.3-legacy'];
const SIGNERS: ('keyless' | KeyType)[] = ['keyless', 'ecdsa-p256', 'ecdsa-p384', 'rsa', 'ed25519'];
const MEDIA_TYPES: Record<BundleVersion, string> = {
  '0.1': 'application/vnd.dev.sigstore.bundle+json;version=0.1',
  '0.2': 'application/vnd.dev.sigstore.bundle+json;version=0.2',
  '0.3': 'application/vnd.dev.sigstore.bundle.v0.3+json',
  '0.3-legacy': 'application/vnd.dev.sigstore.bundle+json;version=0.3',
};

interface Shape {
  content: 'message' | 'dsse';
  tlog: Exclude<TlogKind, 'none'>;
  entryKind: EntryKind;
  apiVersion: string;
}

const SHAPES: Shape[] = [
  { content: 'message', tlog: 'rekor-v1', entryKind: 'hashedrekord', apiVersion: '0.0.1' },
  { content: 'message', tlog: 'rekor-v2', entryKind: 'hashedrekord', apiVersion: '0.0.2' },
  { content: 'dsse', tlog: 'rekor-v1', entryKind: 'dsse', apiVersion: '0.0.1' },
  { content: 'dsse', tlog: 'rekor-v1', entryKind: 'intoto', apiVersion: '0.0.2' },
  { content: 'dsse', tlog: 'rekor-v2', entryKind: 'dsse', apiVersion: '0.0.2' },
];

let pki: TestPki;
/** A second, unrelated PKI: its CA, logs and TSA are not trusted by `trust`. */
let other: TestPki;
let trust: TrustMaterial;

function options(extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return { now: pki.now, ...extra };
}

function verify(
  doc: string | Uint8Array | object,
  artifact: Artifact = BYTES,
  extra: Partial<VerifyOptions> = {},
  material: TrustMaterial = trust,
): VerifiedAttestation {
  return verifyDocument(doc, material, artifact, options(extra));
}

function signOptions(
  version: BundleVersion,
  shape: Shape,
  signer: 'keyless' | KeyType,
): SignOptions {
  return {
    bundleVersion: version,
    tlog: shape.tlog,
    entryKind: shape.entryKind,
    // A v0.1 bundle proves inclusion with a signed entry timestamp, as clients then wrote them.
    ...(version === '0.1' ? { proof: 'inclusion-promise' as const } : {}),
    signer: signer === 'keyless' ? 'keyless' : { key: signer },
    // provgate verifies a P-384 key's DSSE signature over SHA-384 (PKIX_ECDSA_P384_SHA_384).
    ...(shape.content === 'dsse' && signer === 'ecdsa-p384'
      ? { digestAlgorithm: 'sha384' as const }
      : {}),
  };
}

function signerName(signer: 'keyless' | KeyType): string {
  return signer === 'keyless' ? 'keyless' : `key ${signer}`;
}

function tlogEntry(bundle: SerializedBundle, i = 0) {
  const entry = bundle.verificationMaterial.tlogEntries[i];
  assert.ok(entry, `bundle has no tlog entry ${i}`);
  return entry;
}

function inclusionProof(bundle: SerializedBundle) {
  const proof = tlogEntry(bundle).inclusionProof;
  assert.ok(proof, 'tlog entry has no inclusion proof');
  return proof;
}

function inclusionPromise(bundle: SerializedBundle) {
  const promise = tlogEntry(bundle).inclusionPromise;
  assert.ok(promise, 'tlog entry has no inclusion promise');
  return promise;
}

function envelope(bundle: SerializedBundle) {
  assert.ok(bundle.dsseEnvelope, 'bundle has no DSSE envelope');
  return bundle.dsseEnvelope;
}

function messageSignature(bundle: SerializedBundle) {
  assert.ok(bundle.messageSignature, 'bundle has no message signature');
  return bundle.messageSignature;
}

function leafCertificate(bundle: SerializedBundle): { rawBytes: string } {
  const vm = bundle.verificationMaterial;
  const leaf = vm.certificate ?? vm.x509CertificateChain?.certificates[0];
  assert.ok(leaf, 'bundle has no certificate');
  return leaf;
}

function rfc3161(bundle: SerializedBundle): { signedTimestamp: string } {
  const ts = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps[0];
  assert.ok(ts, 'bundle has no RFC 3161 timestamp');
  return ts;
}

function withTrustedRoot(edit: (root: SerializedTrustedRoot) => void): TrustMaterial {
  const root = clone(pki.trustedRoot);
  edit(root);
  return trustFor(pki, root);
}

// The test PKI issues certificates on a clock fixed when it is created, but
// stamps tlog entries with `pki.now` (the same Date object it returns): moving
// it signs a bundle whose integrated time is `offset` from its certificate's issuance.
async function signLoggedAt(offset: number, opts: SignOptions = {}): Promise<SerializedBundle> {
  const saved = pki.now.getTime();
  let bundle: SerializedBundle;
  try {
    pki.now.setTime(saved + offset);
    bundle = await pki.signMessage(ARTIFACT, opts);
  } finally {
    pki.now.setTime(saved);
  }
  // The fixture is what the test needs only if the entry really is logged at that time.
  assert.equal(tlogEntry(bundle).integratedTime, String((saved + offset) / 1000));
  return bundle;
}

describe('verifyAttestation', () => {
  before(async () => {
    [pki, other] = await Promise.all([createTestPki(), createTestPki()]);
    trust = trustFor(pki);
  });

  describe('when the bundle is valid', () => {
    for (const version of VERSIONS) {
      for (const shape of SHAPES) {
        // Rekor v2 gives no signed entry timestamp, which a v0.1 bundle needs.
        if (version === '0.1' && shape.tlog === 'rekor-v2') continue;
        for (const signer of SIGNERS) {
          const name = `v${version}, ${shape.content === 'message' ? 'message signature' : 'DSSE'}, ${shape.tlog} ${shape.entryKind} ${shape.apiVersion}, ${signerName(signer)}`;
          describe(name, () => {
            if (shape.content === 'message') validMessageCases(version, shape, signer);
            else validDsseCases(version, shape, signer);
          });
        }
      }
    }
  });

  describe('when a message signature bundle signs a SHA-384 digest', () => {
    it('verifies the artifact bytes', async () => {
      const bundle = await pki.signMessage(ARTIFACT, { digestAlgorithm: 'sha384' });
      const result = verify(bundle, BYTES);
      assert.equal(result.content.kind, 'message-signature');
    });
  });

  describe('when the attestation is valid in other forms', () => {
    it('verifies a v0.2 bundle that carries the full certificate chain', async () => {
      const bundle = await pki.signMessage(ARTIFACT, { bundleVersion: '0.2', fullChain: true });
      assert.equal(bundle.verificationMaterial.x509CertificateChain?.certificates.length, 2);
      const result = verify(bundle);
      assert.equal(result.signer.kind, 'certificate');
    });

    it('reports both verified times when there is a signed entry timestamp and an RFC 3161 timestamp', async () => {
      const bundle = await pki.signMessage(ARTIFACT, { timestamp: true });
      const result = verify(bundle, DIGEST_SHA256);
      assert.deepEqual(result.timestamps.map((t) => t.source).sort(), ['rfc3161', 'tlog']);
      for (const t of result.timestamps) assert.equal(t.time, pki.now.toISOString());
    });

    it('verifies a v0.3 inclusion-proof-only entry with its time from an RFC 3161 timestamp', async () => {
      const bundle = await pki.signMessage(ARTIFACT, { proof: 'inclusion-proof', timestamp: true });
      const result = verify(bundle);
      assert.equal(result.tlogEntries[0]?.proof, 'inclusion-proof');
      assert.deepEqual(result.timestamps, [{ source: 'rfc3161', time: pki.now.toISOString() }]);
    });

    it('names every Fulcio claim of the certificate', async () => {
      const values: Record<string, string> = {
        [FULCIO_OIDS.issuer]: DEFAULT_ISSUER,
        [FULCIO_OIDS.githubWorkflowTrigger]: 'push',
        [FULCIO_OIDS.githubWorkflowSha]: 'a'.repeat(40),
        [FULCIO_OIDS.githubWorkflowName]: 'release',
        [FULCIO_OIDS.githubWorkflowRepository]: 'octo-org/octo-repo',
        [FULCIO_OIDS.githubWorkflowRef]: 'refs/heads/main',
        [FULCIO_OIDS.buildSignerURI]: DEFAULT_SAN,
        [FULCIO_OIDS.buildSignerDigest]: 'b'.repeat(40),
        [FULCIO_OIDS.runnerEnvironment]: 'github-hosted',
        [FULCIO_OIDS.sourceRepositoryURI]: 'https://github.com/octo-org/octo-repo',
        [FULCIO_OIDS.sourceRepositoryDigest]: 'c'.repeat(40),
        [FULCIO_OIDS.sourceRepositoryRef]: 'refs/heads/main',
        [FULCIO_OIDS.sourceRepositoryIdentifier]: '1234',
        [FULCIO_OIDS.sourceRepositoryOwnerURI]: 'https://github.com/octo-org',
        [FULCIO_OIDS.sourceRepositoryOwnerIdentifier]: '5678',
        [FULCIO_OIDS.buildConfigURI]: `${DEFAULT_SAN}`,
        [FULCIO_OIDS.buildConfigDigest]: 'd'.repeat(40),
        [FULCIO_OIDS.buildTrigger]: 'push',
        [FULCIO_OIDS.runInvocationURI]:
          'https://github.com/octo-org/octo-repo/actions/runs/1/attempts/1',
        [FULCIO_OIDS.sourceRepositoryVisibilityAtSigning]: 'public',
        '1.3.6.1.4.1.57264.1.23': 'production',
      };
      const bundle = await pki.signMessage(ARTIFACT, { claims: values });
      const { signer } = verify(bundle);
      assert.equal(signer.kind, 'certificate');
      assert.deepEqual(signer.claims, {
        issuer: DEFAULT_ISSUER,
        githubWorkflowTrigger: 'push',
        githubWorkflowSha: 'a'.repeat(40),
        githubWorkflowName: 'release',
        githubWorkflowRepository: 'octo-org/octo-repo',
        githubWorkflowRef: 'refs/heads/main',
        buildSignerUri: DEFAULT_SAN,
        buildSignerDigest: 'b'.repeat(40),
        runnerEnvironment: 'github-hosted',
        sourceRepositoryUri: 'https://github.com/octo-org/octo-repo',
        sourceRepositoryDigest: 'c'.repeat(40),
        sourceRepositoryRef: 'refs/heads/main',
        sourceRepositoryIdentifier: '1234',
        sourceRepositoryOwnerUri: 'https://github.com/octo-org',
        sourceRepositoryOwnerIdentifier: '5678',
        buildConfigUri: DEFAULT_SAN,
        buildConfigDigest: 'd'.repeat(40),
        buildTrigger: 'push',
        runInvocationUri: 'https://github.com/octo-org/octo-repo/actions/runs/1/attempts/1',
        sourceRepositoryVisibilityAtSigning: 'public',
        deploymentEnvironment: 'production',
      });
    });

    it('normalizes a SLSA v1 provenance statement', async () => {
      const statement = inTotoStatement(
        [{ name: SUBJECT_NAME, digest: { sha256: SHA256 } }],
        'https://slsa.dev/provenance/v1',
        {
          buildDefinition: {
            buildType: 'https://actions.github.io/buildtypes/workflow/v1',
            externalParameters: {
              workflow: {
                repository: 'https://github.com/octo-org/octo-repo',
                ref: 'refs/heads/main',
                path: '.github/workflows/release.yml',
              },
            },
            resolvedDependencies: [
              {
                uri: 'git+https://github.com/octo-org/octo-repo@refs/heads/main',
                digest: { gitCommit: 'e'.repeat(40) },
              },
            ],
          },
          runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' } },
        },
      );
      const bundle = await pki.signDsse(statement, IN_TOTO_PAYLOAD_TYPE);
      const result = verify(bundle, DIGEST_SHA256);
      assert.equal(result.provenance?.slsaVersion, '1');
      assert.equal(result.provenance?.builderId, 'https://github.com/actions/runner/github-hosted');
      assert.equal(result.provenance?.sourceRepositoryUri, 'https://github.com/octo-org/octo-repo');
      assert.equal(result.provenance?.sourceCommit, 'e'.repeat(40));
      assert.equal(result.provenance?.workflowPath, '.github/workflows/release.yml');
    });

    it('verifies an in-toto v0.1 statement', async () => {
      const statement = inTotoStatement(
        [{ name: SUBJECT_NAME, digest: { sha256: SHA256 } }],
        PREDICATE_TYPE,
        {},
        'v0.1',
      );
      const result = verify(await pki.signDsse(statement, IN_TOTO_PAYLOAD_TYPE), DIGEST_SHA256);
      assert.equal(result.statement?.type, 'https://in-toto.io/Statement/v0.1');
    });

    it('verifies a DSSE payload that is the artifact itself (not a statement)', async () => {
      const bundle = await pki.signDsse(ARTIFACT, 'text/plain');
      const result = verify(bundle, DIGEST_SHA512);
      assert.deepEqual(result.content, { kind: 'dsse', payloadType: 'text/plain' });
      assert.deepEqual(result.matchedSubject, { algorithm: 'sha512', digest: SHA512 });
      assert.equal(result.statement, undefined);
    });

    it('verifies a key-signed bundle with a key the caller names, whatever its hint', async () => {
      const bundle = await pki.signMessage(ARTIFACT, {
        signer: { key: 'ecdsa-p256', hint: 'named-by-caller' },
      });
      const key = createPublicKey(pki.publicKeys['named-by-caller']!.pem);
      // `trust` was built before this key existed: only the explicit key can verify it.
      const result = verify(bundle, DIGEST_SHA256, { key });
      assert.deepEqual(result.signer, { kind: 'key', keyId: 'named-by-caller' });
    });

    for (const key of ['ecdsa-p256', 'ecdsa-p384', 'rsa', 'ed25519'] as const) {
      it(`verifies a bare DSSE envelope signed by a trusted ${key} key`, () => {
        const env = pki.signEnvelope(
          STATEMENT,
          IN_TOTO_PAYLOAD_TYPE,
          { key },
          key === 'ecdsa-p384' ? 'sha384' : 'sha256',
        );
        for (const artifact of [BYTES, DIGEST_SHA256, DIGEST_SHA512]) {
          const result = verify(env, artifact);
          assert.equal(result.mediaType, 'application/vnd.dsse.envelope.v1+json');
          assert.deepEqual(result.signer, { kind: 'key', keyId: key });
          assert.equal(result.matchedSubject.name, SUBJECT_NAME);
          assert.deepEqual(result.tlogEntries, []);
        }
      });
    }

    it('verifies each bundle of an npm attestations document', async () => {
      const doc = {
        attestations: [
          {
            predicateType: PREDICATE_TYPE,
            bundle: await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE),
          },
          {
            predicateType: PREDICATE_TYPE,
            bundle: await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, {
              signer: { key: 'ecdsa-p256' },
            }),
          },
        ],
      };
      const attestations = parseAttestations(JSON.stringify(doc));
      assert.equal(attestations.length, 2);
      const signers = attestations.map(
        (a) => verifyAttestation(a, DIGEST_SHA512, trust, options()).signer.kind,
      );
      assert.deepEqual(signers, ['certificate', 'key']);
    });

    it('verifies each line of a JSON Lines document', async () => {
      const lines = [
        await pki.signMessage(ARTIFACT),
        await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, { tlog: 'rekor-v2' }),
      ]
        .map((b) => JSON.stringify(b))
        .join('\n');
      const attestations = parseAttestations(`${lines}\n`);
      assert.equal(attestations.length, 2);
      for (const a of attestations) verifyAttestation(a, BYTES, trust, options());
    });

    it('accepts an identity policy that matches exactly or by an anchored regex', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      verify(bundle, BYTES, {
        identity: {
          subjectAlternativeName: { exact: DEFAULT_SAN },
          issuer: { exact: DEFAULT_ISSUER },
        },
      });
      verify(bundle, BYTES, {
        identity: {
          subjectAlternativeName: {
            regex: 'https://github\\.com/octo-org/octo-repo/\\.github/workflows/.+@refs/heads/main',
          },
          issuer: { regex: 'https://token\\.actions\\.githubusercontent\\.com' },
          claims: { issuer: { exact: DEFAULT_ISSUER } },
        },
      });
    });

    it('counts two distinct log entries of one signature toward tlogThreshold 2', async () => {
      // Ed25519 signatures are deterministic: the same message signed twice is the
      // same signature, logged once in Rekor v1 and once in Rekor v2.
      const v1 = await pki.signMessage(ARTIFACT, { signer: { key: 'ed25519' } });
      const v2 = await pki.signMessage(ARTIFACT, { signer: { key: 'ed25519' }, tlog: 'rekor-v2' });
      assert.equal(messageSignature(v1).signature, messageSignature(v2).signature);
      const both = clone(v2);
      both.verificationMaterial.tlogEntries.push(tlogEntry(v1));
      const result = verify(both, BYTES, { tlogThreshold: 2 });
      assert.deepEqual(result.tlogEntries.map((e) => e.version).sort(), ['0.0.1', '0.0.2']);
    });
  });

  describe('when the bundle media type names an unknown version', () => {
    it('throws UNKNOWN_BUNDLE_VERSION', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      for (const mediaType of [
        'application/vnd.dev.sigstore.bundle+json;version=0.4',
        'application/vnd.dev.sigstore.bundle.v0.4+json',
        'application/vnd.dev.sigstore.bundle+json',
        '',
      ]) {
        // Broken: a media type that is no Sigstore bundle version provgate knows.
        assertCode(() => verify({ ...bundle, mediaType }), 'UNKNOWN_BUNDLE_VERSION');
      }
    });
  });

  describe('when the document is not JSON', () => {
    it('throws MALFORMED_JSON', async () => {
      const text = JSON.stringify(await pki.signMessage(ARTIFACT));
      // Broken: cut off half-way.
      assertCode(() => verify(text.slice(0, text.length >> 1)), 'MALFORMED_JSON');
      // Broken: a trailing comma.
      assertCode(() => verify(`${text.slice(0, -1)},}`), 'MALFORMED_JSON');
    });
  });

  describe('when a base64 field is not base64', () => {
    it('throws BAD_BASE64', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      // Broken: a character outside the base64 alphabet in the signature.
      messageSignature(bundle).signature = `*${messageSignature(bundle).signature.slice(1)}`;
      assertCode(() => verify(bundle), 'BAD_BASE64');
    });
  });

  describe('when the certificate is truncated DER', () => {
    it('throws MALFORMED_CERTIFICATE', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      const leaf = leafCertificate(bundle);
      // Broken: the leaf certificate cut to half its length.
      const der = Buffer.from(leaf.rawBytes, 'base64');
      leaf.rawBytes = base64(der.subarray(0, der.length >> 1));
      assertCode(() => verify(bundle), 'MALFORMED_CERTIFICATE');
    });
  });

  describe('when the certificate is issued by another CA', () => {
    it('throws UNTRUSTED_CA', async () => {
      // Broken: signed by another PKI, whose CA is not in the trusted root.
      const bundle = await other.signMessage(ARTIFACT);
      assertCode(() => verify(bundle), 'UNTRUSTED_CA');
    });

    it('throws UNTRUSTED_CA when a byte of the embedded SCT is changed (the CA signs it)', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      const leaf = leafCertificate(bundle);
      const der = Buffer.from(leaf.rawBytes, 'base64');
      const sct = X509Certificate.parse(der).extension('1.3.6.1.4.1.11129.2.4.2');
      assert.ok(sct);
      const at = der.indexOf(sct.value);
      assert.ok(at > 0);
      // Broken: the last bytes of the SCT list are the SCT's own signature; one is changed.
      der[at + sct.value.length - 2]! ^= 0x01;
      leaf.rawBytes = base64(der);
      assertCode(() => verify(bundle), 'UNTRUSTED_CA');
    });
  });

  describe('when the certificate was not valid at the signing time', () => {
    it('throws CERTIFICATE_NOT_VALID_AT_SIGNING_TIME', async () => {
      // Broken: logged an hour after its 10-minute certificate was issued.
      const late = await signLoggedAt(HOUR);
      assertCode(() => verify(late), 'CERTIFICATE_NOT_VALID_AT_SIGNING_TIME');
      // Broken: logged an hour before its certificate was issued (the logs are
      // trusted from the epoch, so that only the certificate's window is wrong).
      const early = await signLoggedAt(-HOUR);
      const logsFromEpoch = withTrustedRoot((root) => {
        for (const log of root.tlogs) log.publicKey.validFor = { start: new Date(0).toISOString() };
      });
      assertCode(
        () => verify(early, BYTES, {}, logsFromEpoch),
        'CERTIFICATE_NOT_VALID_AT_SIGNING_TIME',
      );
    });
  });

  describe('when the CA was not valid at the signing time', () => {
    it('throws CA_NOT_VALID_AT_SIGNING_TIME', async () => {
      // Broken: the trusted root's CA validFor starts an hour after the signing.
      const later = await createTestPki({ caValidFor: { start: new Date(Date.now() + HOUR) } });
      const bundle = await later.signMessage(ARTIFACT);
      assertCode(
        () => verifyDocument(bundle, trustFor(later), BYTES, { now: later.now }),
        'CA_NOT_VALID_AT_SIGNING_TIME',
      );
    });

    it('throws CA_NOT_VALID_AT_SIGNING_TIME when the CA validFor ended before the signing', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      // Broken: the CA's validFor in the trusted root ended an hour before the signing.
      const ended = withTrustedRoot((root) => {
        root.certificateAuthorities[0]!.validFor = {
          start: new Date(0).toISOString(),
          end: new Date(pki.now.getTime() - HOUR).toISOString(),
        };
      });
      assertCode(() => verify(bundle, BYTES, {}, ended), 'CA_NOT_VALID_AT_SIGNING_TIME');
    });
  });

  describe('when the transparency log was not valid at the integrated time', () => {
    it('throws TLOG_LOG_NOT_VALID_AT_TIME', async () => {
      // Broken: the trusted root's Rekor v1 validFor starts an hour after the entry.
      const later = await createTestPki({ tlogValidFor: { start: new Date(Date.now() + HOUR) } });
      const bundle = await later.signMessage(ARTIFACT, {
        bundleVersion: '0.1',
        proof: 'inclusion-promise',
      });
      assertCode(
        () => verifyDocument(bundle, trustFor(later), BYTES, { now: later.now }),
        'TLOG_LOG_NOT_VALID_AT_TIME',
      );
    });

    it('throws TLOG_LOG_NOT_VALID_AT_TIME when the log validFor ended before the entry', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      // Broken: Rekor v1's validFor in the trusted root ended an hour before the entry.
      const ended = withTrustedRoot((root) => {
        root.tlogs[0]!.publicKey.validFor = {
          start: new Date(0).toISOString(),
          end: new Date(pki.now.getTime() - HOUR).toISOString(),
        };
      });
      assertCode(() => verify(bundle, BYTES, {}, ended), 'TLOG_LOG_NOT_VALID_AT_TIME');
    });

    for (const tlog of ['rekor-v2', 'rekor-v1'] as const) {
      it(`throws TLOG_LOG_NOT_VALID_AT_TIME for a ${tlog} entry proven by inclusion proof only`, async () => {
        const bundle = await pki.signMessage(ARTIFACT, {
          tlog,
          proof: 'inclusion-proof',
          timestamp: true,
        });
        // Broken: the log's validFor ended an hour before the RFC 3161 signing time.
        const ended = withTrustedRoot((root) => {
          for (const log of root.tlogs) {
            log.publicKey.validFor = {
              start: new Date(0).toISOString(),
              end: new Date(pki.now.getTime() - HOUR).toISOString(),
            };
          }
        });
        assertCode(() => verify(bundle, BYTES, {}, ended), 'TLOG_LOG_NOT_VALID_AT_TIME');
      });
    }
  });

  describe('when the certificate carries no SCT', () => {
    it('throws SCT_MISSING', async () => {
      // Broken: a leaf certificate issued without an embedded SCT.
      const bundle = await pki.signMessage(ARTIFACT, { sct: false });
      assertCode(() => verify(bundle), 'SCT_MISSING');
    });
  });

  describe('when the certificate carries fewer SCTs than ctlogThreshold', () => {
    it('throws SCT_MISSING', async () => {
      // Broken: one SCT where two are required.
      const bundle = await pki.signMessage(ARTIFACT);
      assertCode(() => verify(bundle, BYTES, { ctlogThreshold: 2 }), 'SCT_MISSING');
    });
  });

  describe('when the SCT does not verify', () => {
    it('throws SCT_INVALID for an SCT from a CT log the root does not trust', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      // Broken: the trusted root lists another PKI's CT log instead of the one that signed the SCT.
      const otherCt = withTrustedRoot((root) => {
        root.ctlogs = clone(other.trustedRoot.ctlogs);
      });
      assertCode(() => verify(bundle, BYTES, {}, otherCt), 'SCT_INVALID');
    });

    it('throws SCT_INVALID when the CT log of that ID has another key', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      // Broken: the CT log keeps its ID but its key is another PKI's CT log key.
      const swapped = withTrustedRoot((root) => {
        root.ctlogs[0]!.publicKey = clone(other.trustedRoot.ctlogs[0]!.publicKey);
      });
      assertCode(() => verify(bundle, BYTES, {}, swapped), 'SCT_INVALID');
    });

    it('throws SCT_INVALID when the CT log was not valid at the SCT time', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      // Broken: the CT log's validFor ended an hour before the SCT.
      const ended = withTrustedRoot((root) => {
        root.ctlogs[0]!.publicKey.validFor = {
          start: new Date(0).toISOString(),
          end: new Date(pki.now.getTime() - HOUR).toISOString(),
        };
      });
      assertCode(() => verify(bundle, BYTES, {}, ended), 'SCT_INVALID');
    });
  });

  describe('when the bundle has no transparency-log entry', () => {
    it('throws TLOG_MISSING', async () => {
      // Broken: only an RFC 3161 timestamp, no tlog entry.
      const bundle = await pki.signMessage(ARTIFACT, { tlog: 'none', timestamp: true });
      assertCode(() => verify(bundle), 'TLOG_MISSING');
      const keyed = await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, {
        tlog: 'none',
        timestamp: true,
        signer: { key: 'ecdsa-p256' },
      });
      assertCode(() => verify(keyed), 'TLOG_MISSING');
    });
  });

  describe('when the inclusion proof is missing', () => {
    it('throws TLOG_PROOF_MISSING for a v0.2 bundle with an inclusion promise only', async () => {
      // Broken: v0.2 requires an inclusion proof; this one has only a SET.
      const bundle = await pki.signMessage(ARTIFACT, {
        bundleVersion: '0.2',
        proof: 'inclusion-promise',
      });
      assertCode(() => verify(bundle), 'TLOG_PROOF_MISSING');
    });

    it('throws TLOG_PROOF_MISSING for a v0.1 bundle with neither promise nor proof', async () => {
      const bundle = await pki.signMessage(ARTIFACT, { bundleVersion: '0.1', timestamp: true });
      // Broken: both the SET and the inclusion proof removed.
      tlogEntry(bundle).inclusionPromise = undefined;
      tlogEntry(bundle).inclusionProof = undefined;
      assertCode(() => verify(bundle), 'TLOG_PROOF_MISSING');
    });

    it('throws TLOG_PROOF_MISSING for an inclusion proof without a checkpoint', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      // Broken: the checkpoint that signs the proof's root is removed.
      delete (inclusionProof(bundle) as { checkpoint?: unknown }).checkpoint;
      assertCode(() => verify(bundle), 'TLOG_PROOF_MISSING');
    });

    it('throws TLOG_PROOF_MISSING for a bare DSSE envelope carrying a certificate', async () => {
      const bundle = await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE);
      const env = envelope(bundle);
      // Broken (as slsa-github-generator < v2.1.0 wrote them): a signing
      // certificate in the envelope, the proof of logging only in Rekor.
      const pemCert = `-----BEGIN CERTIFICATE-----\n${leafCertificate(bundle).rawBytes}\n-----END CERTIFICATE-----\n`;
      const bare = {
        payloadType: env.payloadType,
        payload: env.payload,
        signatures: [{ keyid: '', sig: env.signatures[0]!.sig, cert: pemCert }],
      };
      assertCode(() => verify(bare), 'TLOG_PROOF_MISSING');
    });
  });

  describe('when the inclusion proof does not lead to the root', () => {
    for (const tlog of ['rekor-v1', 'rekor-v2'] as const) {
      it(`throws TLOG_INCLUSION_PROOF_INVALID (${tlog})`, async () => {
        const bundle = await pki.signMessage(ARTIFACT, { tlog, timestamp: true });
        const altered = clone(bundle);
        // Broken: one bit of the first audit-path hash flipped.
        inclusionProof(altered).hashes[0] = flipBase64(inclusionProof(altered).hashes[0]!);
        assertCode(() => verify(altered), 'TLOG_INCLUSION_PROOF_INVALID');

        const short = clone(bundle);
        // Broken: the audit path is one hash short.
        inclusionProof(short).hashes.pop();
        assertCode(() => verify(short), 'TLOG_INCLUSION_PROOF_INVALID');

        const outside = clone(bundle);
        // Broken: the leaf index is outside the tree.
        inclusionProof(outside).logIndex = inclusionProof(outside).treeSize;
        assertCode(() => verify(outside), 'TLOG_INCLUSION_PROOF_INVALID');
      });
    }

    it('throws TLOG_INCLUSION_PROOF_INVALID for an altered Rekor v2 body', async () => {
      const bundle = await pki.signMessage(ARTIFACT, { tlog: 'rekor-v2' });
      const entry = tlogEntry(bundle);
      // Broken: a space added to the canonicalized body (still a valid body otherwise).
      const body = Buffer.from(entry.canonicalizedBody, 'base64').toString();
      entry.canonicalizedBody = base64(`${body} `);
      assertCode(() => verify(bundle), 'TLOG_INCLUSION_PROOF_INVALID');
    });
  });

  describe('when the checkpoint signature does not verify', () => {
    it('throws TLOG_CHECKPOINT_INVALID for an altered checkpoint signature', async () => {
      for (const tlog of ['rekor-v1', 'rekor-v2'] as const) {
        const bundle = await pki.signMessage(ARTIFACT, { tlog });
        const checkpoint = inclusionProof(bundle).checkpoint;
        // Broken: one bit of the signature (last base64 group) flipped.
        const [note, sigs] = checkpoint.envelope.split('\n\n') as [string, string];
        const m = /^(\u2014 \S+ )(\S+)\n$/.exec(sigs);
        assert.ok(m);
        checkpoint.envelope = `${note}\n\n${m[1]}${flipBase64(m[2]!)}\n`;
        assertCode(() => verify(bundle), 'TLOG_CHECKPOINT_INVALID');
      }
    });

    it('throws TLOG_CHECKPOINT_INVALID for a checkpoint whose tree size was changed', async () => {
      const bundle = await pki.signMessage(ARTIFACT, { proof: 'inclusion-proof', timestamp: true });
      const checkpoint = inclusionProof(bundle).checkpoint;
      // Broken: the signed note's tree size changed, its signature kept.
      checkpoint.envelope = checkpoint.envelope.replace(
        /\n(\d+)\n/,
        (_, n: string) => `\n${BigInt(n) + 1n}\n`,
      );
      assertCode(() => verify(bundle), 'TLOG_CHECKPOINT_INVALID');
    });

    it('throws TLOG_CHECKPOINT_INVALID for a checkpoint signed by an untrusted key', async () => {
      const bundle = await pki.signMessage(ARTIFACT, { proof: 'inclusion-proof', timestamp: true });
      const otherBundle = await other.signMessage(ARTIFACT, {
        proof: 'inclusion-proof',
        timestamp: true,
      });
      const checkpoint = inclusionProof(bundle).checkpoint;
      // Broken: the signature line is another PKI's Rekor's, over another note.
      const otherSig = inclusionProof(otherBundle).checkpoint.envelope.split('\n\n')[1]!;
      checkpoint.envelope = `${checkpoint.envelope.split('\n\n')[0]!}\n\n${otherSig}`;
      assertCode(() => verify(bundle), 'TLOG_CHECKPOINT_INVALID');

      // Broken: the trusted root keeps Rekor's log ID but with another PKI's Rekor key.
      const swapped = withTrustedRoot((root) => {
        root.tlogs[0]!.publicKey = clone(other.trustedRoot.tlogs[0]!.publicKey);
      });
      const intact = await pki.signMessage(ARTIFACT, { proof: 'inclusion-proof', timestamp: true });
      assertCode(() => verify(intact, BYTES, {}, swapped), 'TLOG_CHECKPOINT_INVALID');
    });
  });

  describe("when the inclusion proof's root is not the checkpoint's", () => {
    it('throws TLOG_CHECKPOINT_MISMATCH', async () => {
      for (const tlog of ['rekor-v1', 'rekor-v2'] as const) {
        const bundle = await pki.signMessage(ARTIFACT, { tlog, timestamp: true });
        const root = clone(bundle);
        // Broken: the proof's root hash differs from the one the checkpoint signs.
        inclusionProof(root).rootHash = flipBase64(inclusionProof(root).rootHash);
        assertCode(() => verify(root), 'TLOG_CHECKPOINT_MISMATCH');

        const size = clone(bundle);
        // Broken: the proof's tree size differs from the checkpoint's.
        inclusionProof(size).treeSize = String(BigInt(inclusionProof(size).treeSize) + 1n);
        assertCode(() => verify(size), 'TLOG_CHECKPOINT_MISMATCH');
      }
    });
  });

  describe('when the signed entry timestamp does not verify', () => {
    it('throws TLOG_SET_INVALID', async () => {
      for (const bundleVersion of ['0.1', '0.3'] as const) {
        const bundle = await pki.signMessage(ARTIFACT, { bundleVersion });
        const flipped = clone(bundle);
        // Broken: one bit of the SET flipped.
        inclusionPromise(flipped).signedEntryTimestamp = flipBase64(
          inclusionPromise(flipped).signedEntryTimestamp,
        );
        assertCode(() => verify(flipped), 'TLOG_SET_INVALID');

        const moved = clone(bundle);
        // Broken: the integrated time (which the SET signs) moved one second.
        tlogEntry(moved).integratedTime = String(Number(tlogEntry(moved).integratedTime) + 1);
        assertCode(() => verify(moved), 'TLOG_SET_INVALID');

        const reindexed = clone(bundle);
        // Broken: the log index (which the SET signs) changed.
        tlogEntry(reindexed).logIndex = String(Number(tlogEntry(reindexed).logIndex) + 1);
        assertCode(() => verify(reindexed), 'TLOG_SET_INVALID');
      }
    });
  });

  describe('when the entry names a log the root does not trust', () => {
    it('throws TLOG_UNKNOWN_LOG', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      // Broken: a log ID no trusted log has.
      tlogEntry(bundle).logId.keyId = base64(randomBytes(32));
      assertCode(() => verify(bundle), 'TLOG_UNKNOWN_LOG');

      const v2 = await pki.signMessage(ARTIFACT, { tlog: 'rekor-v2' });
      // Broken: a trusted root without the Rekor v2 log that logged the entry.
      const withoutV2 = withTrustedRoot((root) => {
        root.tlogs = root.tlogs.slice(0, 1);
      });
      assertCode(() => verify(v2, BYTES, {}, withoutV2), 'TLOG_UNKNOWN_LOG');
    });
  });

  describe('when the log entry is for another signature', () => {
    for (const tlog of ['rekor-v1', 'rekor-v2'] as const) {
      it(`throws TLOG_ENTRY_MISMATCH for a grafted message entry (${tlog})`, async () => {
        const bundle = await pki.signMessage(ARTIFACT, { tlog });
        const second = await pki.signMessage(OTHER_ARTIFACT, { tlog });
        // Broken: the (valid, proven) entry of another bundle from the same PKI.
        bundle.verificationMaterial.tlogEntries = clone(second.verificationMaterial.tlogEntries);
        assertCode(() => verify(bundle), 'TLOG_ENTRY_MISMATCH');
      });
    }

    for (const [tlog, entryKind] of [
      ['rekor-v1', 'dsse'],
      ['rekor-v1', 'intoto'],
      ['rekor-v2', 'dsse'],
    ] as const) {
      it(`throws TLOG_ENTRY_MISMATCH for a grafted ${entryKind} entry (${tlog})`, async () => {
        const opts: SignOptions = { tlog, entryKind };
        const bundle = await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, opts);
        const second = await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, opts);
        // Broken: the entry of a second signing of the same statement (another signature, another certificate).
        bundle.verificationMaterial.tlogEntries = clone(second.verificationMaterial.tlogEntries);
        assertCode(() => verify(bundle), 'TLOG_ENTRY_MISMATCH');
      });
    }

    it('throws TLOG_ENTRY_MISMATCH for a DSSE entry on a message signature', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      const dsse = await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE);
      // Broken: a message-signature bundle carrying a DSSE bundle's entry.
      bundle.verificationMaterial.tlogEntries = clone(dsse.verificationMaterial.tlogEntries);
      assertCode(() => verify(bundle), 'TLOG_ENTRY_MISMATCH');
    });

    it('throws TLOG_ENTRY_MISMATCH when kindVersion disagrees with the body', async () => {
      const bundle = await pki.signMessage(ARTIFACT, { tlog: 'rekor-v2' });
      // Broken: the entry claims to be hashedrekord 0.0.1; its body is 0.0.2.
      tlogEntry(bundle).kindVersion = { kind: 'hashedrekord', version: '0.0.1' };
      assertCode(() => verify(bundle), 'TLOG_ENTRY_MISMATCH');
    });
  });

  describe('when the RFC 3161 timestamp does not verify', () => {
    it('throws TIMESTAMP_INVALID', async () => {
      const bundle = await pki.signMessage(ARTIFACT, { tlog: 'rekor-v2' });
      const second = await pki.signMessage(ARTIFACT, { tlog: 'rekor-v2' });
      const grafted = clone(bundle);
      // Broken: a timestamp over another bundle's signature.
      rfc3161(grafted).signedTimestamp = rfc3161(second).signedTimestamp;
      assertCode(() => verify(grafted), 'TIMESTAMP_INVALID');

      const garbage = clone(bundle);
      // Broken: the timestamp is not DER.
      rfc3161(garbage).signedTimestamp = base64('not a timestamp');
      assertCode(() => verify(garbage), 'TIMESTAMP_INVALID');

      const flipped = clone(bundle);
      // Broken: one bit of the TSA's signature (the last bytes) flipped.
      rfc3161(flipped).signedTimestamp = flipBase64(rfc3161(flipped).signedTimestamp, -2);
      assertCode(() => verify(flipped), 'TIMESTAMP_INVALID');
    });
  });

  describe('when the RFC 3161 timestamp is from an untrusted authority', () => {
    it('throws TIMESTAMP_UNTRUSTED', async () => {
      const bundle = await pki.signMessage(ARTIFACT, { tlog: 'rekor-v2' });
      // Broken: a trusted root without timestamp authorities.
      const noTsa = withTrustedRoot((root) => {
        root.timestampAuthorities = [];
      });
      assertCode(() => verify(bundle, BYTES, {}, noTsa), 'TIMESTAMP_UNTRUSTED');
      // Broken: the TSA's validFor in the trusted root starts an hour after the timestamp.
      const later = withTrustedRoot((root) => {
        root.timestampAuthorities[0]!.validFor = {
          start: new Date(pki.now.getTime() + HOUR).toISOString(),
        };
      });
      assertCode(() => verify(bundle, BYTES, {}, later), 'TIMESTAMP_UNTRUSTED');
    });

    it('throws TIMESTAMP_UNTRUSTED for a TSA window set by the test PKI (tsaValidFor)', async () => {
      const later = await createTestPki({ tsaValidFor: { start: new Date(Date.now() + HOUR) } });
      const bundle = await later.signMessage(ARTIFACT, { tlog: 'rekor-v2' });
      assertCode(
        () => verifyDocument(bundle, trustFor(later), BYTES, { now: later.now }),
        'TIMESTAMP_UNTRUSTED',
      );
    });
  });

  describe('when nothing vouches for the signing time', () => {
    it('throws NO_VERIFIED_TIME', async () => {
      // Broken: an inclusion proof (no SET, no integrated time vouched for) and no timestamp.
      for (const signer of ['keyless', { key: 'ecdsa-p256' as const }] as const) {
        const bundle = await pki.signMessage(ARTIFACT, {
          proof: 'inclusion-proof',
          timestamp: false,
          signer,
        });
        assertCode(() => verify(bundle), 'NO_VERIFIED_TIME');
      }
    });
  });

  describe('when the signature does not verify', () => {
    it('throws SIGNATURE_INVALID for an altered DSSE payload', async () => {
      for (const signer of ['keyless', { key: 'rsa' as const }] as const) {
        const bundle = await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, { signer });
        // Broken: the payload is another statement; signature, certificate and entry kept.
        envelope(bundle).payload = base64(
          inTotoStatement([{ name: 'evil', digest: { sha256: SHA256 } }], PREDICATE_TYPE, {}),
        );
        assertCode(() => verify(bundle), 'SIGNATURE_INVALID');
      }
    });

    it('throws SIGNATURE_INVALID for an altered DSSE payload type', async () => {
      const bundle = await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE);
      // Broken: the payload type (which PAE signs) changed.
      envelope(bundle).payloadType = 'application/vnd.in-toto+json; charset=utf-8';
      assertCode(() => verify(bundle), 'SIGNATURE_INVALID');
    });

    // The signature is checked before the log entry, so a changed signature is
    // SIGNATURE_INVALID even though the entry then logs another signature.
    for (const signer of ['keyless', 'ecdsa-p256', 'ecdsa-p384', 'rsa', 'ed25519'] as const) {
      it(`throws SIGNATURE_INVALID for a flipped signature byte (${signerName(signer)})`, async () => {
        const opts: SignOptions = { signer: signer === 'keyless' ? 'keyless' : { key: signer } };
        const message = await pki.signMessage(ARTIFACT, opts);
        // Broken: one bit of the message signature flipped.
        messageSignature(message).signature = flipBase64(messageSignature(message).signature, 10);
        assertCode(() => verify(message), 'SIGNATURE_INVALID');

        const dsse = await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE, {
          ...opts,
          ...(signer === 'ecdsa-p384' ? { digestAlgorithm: 'sha384' as const } : {}),
        });
        // Broken: one bit of the DSSE signature flipped.
        envelope(dsse).signatures[0]!.sig = flipBase64(envelope(dsse).signatures[0]!.sig, 10);
        assertCode(() => verify(dsse), 'SIGNATURE_INVALID');
      });
    }

    it('throws SIGNATURE_INVALID for a bundle without messageDigest and other bytes', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      // Broken: no messageDigest to compare first, and the bytes are another artifact's.
      messageSignature(bundle).messageDigest = undefined;
      const artifact = { bytes: OTHER_ARTIFACT, digests: { sha256: SHA256 } };
      assertCode(() => verify(bundle, artifact), 'SIGNATURE_INVALID');
    });

    it('throws SIGNATURE_INVALID for a bare envelope whose payload was altered', () => {
      const env = pki.signEnvelope(STATEMENT, IN_TOTO_PAYLOAD_TYPE, { key: 'ecdsa-p256' });
      // Broken: another statement under the same signature.
      env.payload = base64(inTotoStatement([], PREDICATE_TYPE, {}));
      assertCode(() => verify(env), 'SIGNATURE_INVALID');
    });
  });

  describe('when the statement is not about the artifact', () => {
    it('throws SUBJECT_DIGEST_MISMATCH', async () => {
      // Broken: a valid statement whose subject is another artifact.
      const statement = inTotoStatement(
        [{ name: SUBJECT_NAME, digest: { sha256: 'ab'.repeat(32), sha512: 'cd'.repeat(64) } }],
        PREDICATE_TYPE,
        {},
      );
      for (const tlog of ['rekor-v1', 'rekor-v2'] as const) {
        const bundle = await pki.signDsse(statement, IN_TOTO_PAYLOAD_TYPE, { tlog });
        for (const artifact of [BYTES, DIGEST_SHA256, DIGEST_SHA512]) {
          assertCode(() => verify(bundle, artifact), 'SUBJECT_DIGEST_MISMATCH');
        }
      }
      const env = pki.signEnvelope(statement, IN_TOTO_PAYLOAD_TYPE, { key: 'ed25519' });
      assertCode(() => verify(env, DIGEST_SHA256), 'SUBJECT_DIGEST_MISMATCH');
    });

    it('throws SUBJECT_DIGEST_MISMATCH for a non-statement payload that is not the artifact', async () => {
      // Broken: a plain-text payload that is another artifact.
      const bundle = await pki.signDsse(OTHER_ARTIFACT, 'text/plain');
      assertCode(() => verify(bundle, DIGEST_SHA256), 'SUBJECT_DIGEST_MISMATCH');
    });
  });

  describe('when the message signature is for another artifact', () => {
    it('throws ARTIFACT_DIGEST_MISMATCH', async () => {
      // Broken: the bundle signs OTHER_ARTIFACT; verified against ARTIFACT.
      for (const digestAlgorithm of ['sha256', 'sha512'] as const) {
        const bundle = await pki.signMessage(OTHER_ARTIFACT, { digestAlgorithm });
        const digestOnly = digestAlgorithm === 'sha256' ? DIGEST_SHA256 : DIGEST_SHA512;
        assertCode(() => verify(bundle, digestOnly), 'ARTIFACT_DIGEST_MISMATCH');
        assertCode(() => verify(bundle, BYTES), 'ARTIFACT_DIGEST_MISMATCH');
      }
    });

    it('throws ARTIFACT_DIGEST_MISMATCH when only a digest of another algorithm is known', async () => {
      const bundle = await pki.signMessage(ARTIFACT, { digestAlgorithm: 'sha512' });
      assertCode(() => verify(bundle, DIGEST_SHA256), 'ARTIFACT_DIGEST_MISMATCH');
    });
  });

  describe('when the signer identity differs', () => {
    it('throws IDENTITY_MISMATCH', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      const mismatches = [
        { exact: 'https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main' },
        // Exact means the whole string, not a prefix.
        { exact: DEFAULT_SAN.slice(0, -1) },
        // Anchored: a pattern matching only a substring of the SAN fails.
        { regex: 'octo-org/octo-repo' },
        { regex: 'https://github\\.com/octo-org/' },
        { regex: '\\.github/workflows/release\\.yml@refs/heads/main' },
      ];
      for (const subjectAlternativeName of mismatches) {
        assertCode(
          () => verify(bundle, BYTES, { identity: { subjectAlternativeName } }),
          'IDENTITY_MISMATCH',
        );
      }
    });

    it('throws IDENTITY_MISMATCH for a key-signed bundle and an identity policy', async () => {
      const bundle = await pki.signMessage(ARTIFACT, { signer: { key: 'ecdsa-p256' } });
      const identity = { subjectAlternativeName: { regex: '.*' } };
      assertCode(() => verify(bundle, BYTES, { identity }), 'IDENTITY_MISMATCH');
    });
  });

  describe('when the issuer differs', () => {
    it('throws ISSUER_MISMATCH', async () => {
      const bundle = await pki.signMessage(ARTIFACT);
      for (const issuer of [
        { exact: 'https://accounts.google.com' },
        { regex: 'token\\.actions' },
        { exact: `${DEFAULT_ISSUER}/` },
      ]) {
        assertCode(() => verify(bundle, BYTES, { identity: { issuer } }), 'ISSUER_MISMATCH');
      }
    });
  });

  describe('when a certificate claim differs', () => {
    it('throws CLAIM_MISMATCH', async () => {
      const bundle = await pki.signMessage(ARTIFACT, {
        claims: {
          [FULCIO_OIDS.issuer]: DEFAULT_ISSUER,
          [FULCIO_OIDS.sourceRepositoryURI]: 'https://github.com/octo-org/octo-repo',
        },
      });
      const wrong = { sourceRepositoryUri: { exact: 'https://github.com/evil/octo-repo' } };
      assertCode(() => verify(bundle, BYTES, { identity: { claims: wrong } }), 'CLAIM_MISMATCH');
      const substring = { sourceRepositoryUri: { regex: 'octo-repo' } };
      assertCode(
        () => verify(bundle, BYTES, { identity: { claims: substring } }),
        'CLAIM_MISMATCH',
      );
      // The certificate has no source repository ref at all.
      const absent = { sourceRepositoryRef: { regex: '.*' } };
      assertCode(() => verify(bundle, BYTES, { identity: { claims: absent } }), 'CLAIM_MISMATCH');
    });
  });

  describe('when the bundle names a key that is not trusted', () => {
    it('throws KEY_NOT_FOUND', async () => {
      // Broken: signed by a key made after `trust` was built, so not in it.
      const bundle = await pki.signMessage(ARTIFACT, {
        signer: { key: 'ecdsa-p256', hint: 'not-trusted' },
      });
      assertCode(() => verify(bundle), 'KEY_NOT_FOUND');
    });
  });

  describe('when the key was not valid at the signing time', () => {
    it('throws KEY_NOT_VALID_AT_SIGNING_TIME', async () => {
      const bundle = await pki.signMessage(ARTIFACT, { signer: { key: 'ecdsa-p256' } });
      const pem = pki.publicKeys['ecdsa-p256']!.pem;
      for (const validFor of [
        { start: new Date(pki.now.getTime() + HOUR) },
        { start: new Date(0), end: new Date(pki.now.getTime() - HOUR) },
      ]) {
        // Broken: the trusted key's window does not include the signing time.
        const windowed = buildTrust([{ keyId: 'ecdsa-p256', pem, validFor }]);
        assertCode(() => verify(bundle, BYTES, {}, windowed), 'KEY_NOT_VALID_AT_SIGNING_TIME');
      }
    });
  });

  describe('when a bare envelope is not an in-toto statement', () => {
    it('throws PAYLOAD_TYPE_UNSUPPORTED', () => {
      // Broken: a key-signed envelope over a payload that names no subject.
      const env = pki.signEnvelope(ARTIFACT, 'application/octet-stream', { key: 'ecdsa-p256' });
      assertCode(() => verify(env), 'PAYLOAD_TYPE_UNSUPPORTED');
    });
  });

  describe('when a bare envelope arrives and no key is configured', () => {
    it('throws KEY_REQUIRED', () => {
      const env = pki.signEnvelope(STATEMENT, IN_TOTO_PAYLOAD_TYPE, { key: 'ecdsa-p256' });
      assertCode(() => verify(env, BYTES, {}, buildTrust([])), 'KEY_REQUIRED');
    });
  });

  describe('when the npm document names another predicate type', () => {
    it('throws STATEMENT_INVALID', async () => {
      const bundle = await pki.signDsse(STATEMENT, IN_TOTO_PAYLOAD_TYPE);
      // Broken: the unsigned predicateType disagrees with the signed statement.
      const doc = { attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', bundle }] };
      assertCode(() => verify(doc), 'STATEMENT_INVALID');
    });
  });

  describe('when the same tlog entry appears twice', () => {
    it('throws TLOG_MISSING for tlogThreshold 2 (copies are counted once)', async () => {
      for (const tlog of ['rekor-v1', 'rekor-v2'] as const) {
        const bundle = await pki.signMessage(ARTIFACT, { tlog });
        // Broken: the one entry listed twice.
        bundle.verificationMaterial.tlogEntries.push(clone(tlogEntry(bundle)));
        assertCode(() => verify(bundle, BYTES, { tlogThreshold: 2 }), 'TLOG_MISSING');
        assert.equal(verify(bundle).tlogEntries.length, 1);
      }
    });

    it('throws TLOG_MISSING for tlogThreshold 2 when the copy has another log index', async () => {
      const bundle = await pki.signMessage(ARTIFACT, {
        proof: 'inclusion-proof',
        timestamp: true,
      });
      const copy = clone(tlogEntry(bundle));
      // Broken: the copy's top-level log index (not covered by an inclusion proof) changed.
      copy.logIndex = String(Number(copy.logIndex) + 1);
      bundle.verificationMaterial.tlogEntries.push(copy);
      assertCode(() => verify(bundle, BYTES, { tlogThreshold: 2 }), 'TLOG_MISSING');
    });
  });
});

function buildTrust(
  keys: { keyId: string; pem: string; validFor?: { start: Date; end?: Date } }[],
) {
  return buildTrustMaterial({ trustedRoots: [pki.trustedRoot], keys });
}

function validMessageCases(
  version: BundleVersion,
  shape: Shape,
  signer: 'keyless' | KeyType,
): void {
  const bundles: Partial<Record<'sha256' | 'sha512', SerializedBundle>> = {};
  before(async () => {
    const opts = signOptions(version, shape, signer);
    bundles.sha256 = await pki.signMessage(ARTIFACT, opts);
    bundles.sha512 = await pki.signMessage(ARTIFACT, { ...opts, digestAlgorithm: 'sha512' });
  });
  const digestOnly = { sha256: DIGEST_SHA256, sha512: DIGEST_SHA512 };
  const hex = { sha256: SHA256, sha512: SHA512 };

  for (const algorithm of ['sha256', 'sha512'] as const) {
    it(`verifies the artifact bytes (${algorithm} message digest)`, () => {
      const bundle = bundles[algorithm]!;
      const result = verify(bundle, BYTES);
      assertFacts(result, bundle, version, shape, signer);
      assert.deepEqual(result.content, {
        kind: 'message-signature',
        digest: { algorithm, hex: hex[algorithm] },
      });
      assert.deepEqual(result.matchedSubject, { algorithm, digest: hex[algorithm] });
    });

    if (signer === 'ed25519') {
      // Ed25519 signs the message itself: a digest cannot be checked against it.
      it(`throws ARTIFACT_BYTES_REQUIRED for the ${algorithm} digest alone`, () => {
        assertCode(
          () => verify(bundles[algorithm]!, digestOnly[algorithm]),
          'ARTIFACT_BYTES_REQUIRED',
        );
      });
    } else {
      it(`verifies the ${algorithm} digest alone`, () => {
        const bundle = bundles[algorithm]!;
        const result = verify(bundle, digestOnly[algorithm]);
        assertFacts(result, bundle, version, shape, signer);
        assert.deepEqual(result.matchedSubject, { algorithm, digest: hex[algorithm] });
      });
    }
  }
}

function validDsseCases(version: BundleVersion, shape: Shape, signer: 'keyless' | KeyType): void {
  let bundle: SerializedBundle;
  before(async () => {
    bundle = await pki.signDsse(
      STATEMENT,
      IN_TOTO_PAYLOAD_TYPE,
      signOptions(version, shape, signer),
    );
  });
  const modes = [
    // With the bytes both digests are known; the strongest is reported.
    ['the artifact bytes', BYTES, 'sha512', SHA512],
    ['the sha256 digest alone', DIGEST_SHA256, 'sha256', SHA256],
    ['the sha512 digest alone', DIGEST_SHA512, 'sha512', SHA512],
  ] as const;
  for (const [name, artifact, algorithm, digest] of modes) {
    it(`verifies ${name}`, () => {
      const result = verify(bundle, artifact);
      assertFacts(result, bundle, version, shape, signer);
      assert.deepEqual(result.content, { kind: 'dsse', payloadType: IN_TOTO_PAYLOAD_TYPE });
      assert.deepEqual(result.matchedSubject, { name: SUBJECT_NAME, algorithm, digest });
      assert.equal(result.statement?.predicateType, PREDICATE_TYPE);
      assert.equal(result.statement?.subject[0]?.name, SUBJECT_NAME);
    });
  }
}

function assertFacts(
  result: VerifiedAttestation,
  bundle: SerializedBundle,
  version: BundleVersion,
  shape: Shape,
  signer: 'keyless' | KeyType,
): void {
  assert.equal(result.mediaType, MEDIA_TYPES[version]);
  assert.equal(result.mediaType, bundle.mediaType);
  if (signer === 'keyless') {
    assert.equal(result.signer.kind, 'certificate');
    assert.equal(result.signer.subjectAlternativeName, DEFAULT_SAN);
    assert.equal(result.signer.issuer, DEFAULT_ISSUER);
    assert.equal(result.signer.claims.issuer, DEFAULT_ISSUER);
    assert.equal(result.signer.certificateAuthority, 'sigstore.mock/sigstore');
  } else {
    assert.deepEqual(result.signer, { kind: 'key', keyId: signer });
  }
  const now = pki.now.toISOString();
  const rekorV1 = shape.tlog === 'rekor-v1';
  const log = pki.trustedRoot.tlogs[rekorV1 ? 0 : 1]!;
  assert.deepEqual(result.tlogEntries, [
    {
      logId: log.logId.keyId,
      logIndex: tlogEntry(bundle).logIndex,
      ...(rekorV1 ? { integratedTime: now } : {}),
      kind: shape.entryKind,
      version: shape.apiVersion,
      proof: version === '0.1' ? 'inclusion-promise' : 'inclusion-proof',
    },
  ]);
  // Rekor v1 entries carry a SET vouching for the integrated time; Rekor v2 bundles an RFC 3161 timestamp.
  assert.deepEqual(result.timestamps, [{ source: rekorV1 ? 'tlog' : 'rfc3161', time: now }]);
  assert.deepEqual(result.disagreements, []);
}
