// Every real-world sample in test/fixtures (copied from ../shared/testdata, see
// test/fixtures/SOURCES.md) with the result its upstream project's tests assert,
// in path mode (the artifact's bytes) and digest-only mode.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildTrustMaterial, embeddedNpmKeys, embeddedTrustedRoot } from '../../src/trust/index.ts';
import {
  parseAttestations,
  verifyAttestation,
  type Artifact,
  type IdentityPolicy,
  type VerifiedAttestation,
} from '../../src/verify/index.ts';
import { createPublicKey } from 'node:crypto';
import { assertCode } from './support/fixtures.ts';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, FIXTURES));
const json = (p: string): unknown => JSON.parse(read(p).toString('utf8'));

const publicGood = buildTrustMaterial({
  trustedRoots: [embeddedTrustedRoot()],
  npmKeys: [embeddedNpmKeys()],
});
const clientRoot = buildTrustMaterial({
  trustedRoots: [json('sigstore-js/client-fixtures/trusted_root.test-subset.json')],
});
const verifyRoot = buildTrustMaterial({
  trustedRoots: [json('sigstore-js/verify-fixtures/trust.trustedRootJSON.json')],
});

const GH_ISSUER = 'https://token.actions.githubusercontent.com';
const NOW = new Date('2026-11-29T00:00:00Z');

function bytesArtifact(path: string): Artifact {
  const bytes = read(path);
  return {
    bytes,
    digests: {
      sha256: createHash('sha256').update(bytes).digest('hex'),
      sha512: createHash('sha512').update(bytes).digest('hex'),
    },
  };
}

/** Digest-only: what an admission request carries. */
function digestOnly(a: Artifact, alg?: 'sha256' | 'sha512'): Artifact {
  return { digests: alg === undefined ? { ...a.digests } : { [alg]: a.digests[alg] } };
}

function verifyAll(
  bundlePath: string,
  artifact: Artifact,
  trust = publicGood,
  identity?: IdentityPolicy,
  key?: string,
): VerifiedAttestation[] {
  return parseAttestations(read(bundlePath)).map((a) =>
    verifyAttestation(a, artifact, trust, {
      now: NOW,
      ...(identity === undefined ? {} : { identity }),
      ...(key === undefined ? {} : { key: createPublicKey(read(key)) }),
    }),
  );
}

describe('real-world samples', () => {
  describe('sigstore-js tests-bundles (production root, npm publish statement)', () => {
    const artifact: Artifact = {
      digests: {
        sha512:
          '7bea9f6e7ff37f5fab0b36bf061200fff03099fd2fd696b91d04bc5e4f225eb9fd6e0cadcad54ba980f43fb352a99e8810b4e0abeb5c0ef2cf9108cd1f258b36',
      },
    };
    const identity: IdentityPolicy = {
      subjectAlternativeName: { exact: 'brian@dehamer.com' },
      issuer: { exact: 'https://github.com/login/oauth' },
    };
    for (const name of [
      'bundleV01-dsse-no-proof',
      'bundleV01-dsse-with-proof',
      'bundleV01-full-cert-chain',
      'bundleV01-intoto-no-proof',
      'bundleV01-intoto-with-proof',
      'bundleV02-dsse',
      'bundleV02-intoto',
      'bundleV03-dsse',
      'bundleV03-intoto',
    ]) {
      it(`verifies ${name} digest-only`, () => {
        const [r] = verifyAll(
          `sigstore-js/tests-bundles/${name}.sigstore`,
          artifact,
          publicGood,
          identity,
        );
        assert.equal(r!.matchedSubject.name, 'pkg:npm/sigstore@1.0.0');
        assert.equal(r!.signer.kind, 'certificate');
        assert.ok(r!.tlogEntries.length >= 1);
      });
    }
    it('throws SUBJECT_DIGEST_MISMATCH for another artifact', () => {
      assertCode(
        () =>
          verifyAll('sigstore-js/tests-bundles/bundleV03-dsse.sigstore', {
            digests: { sha512: 'ab'.repeat(64) },
          }),
        'SUBJECT_DIGEST_MISMATCH',
      );
    });
    it('throws IDENTITY_MISMATCH for another signer', () => {
      assertCode(
        () =>
          verifyAll('sigstore-js/tests-bundles/bundleV03-dsse.sigstore', artifact, publicGood, {
            subjectAlternativeName: { exact: 'someone@example.com' },
          }),
        'IDENTITY_MISMATCH',
      );
    });
  });

  describe('sigstore-js client-fixtures (test-subset root, artifact.txt)', () => {
    const artifact = bytesArtifact('sigstore-js/client-fixtures/artifact.txt');
    const identity: IdentityPolicy = { issuer: { exact: 'https://github.com/login/oauth' } };
    for (const name of [
      'valid.v1.dsse.withSigningCert',
      'valid.v1.messageSignature.withSigningCert',
      'valid.v2.messageSignature.withSigningCert',
      'valid.v3.dsse.withSigningCert',
      'valid.v3.messageSignature.withSigningCert',
    ]) {
      for (const mode of ['path', 'digest'] as const) {
        it(`verifies ${name} (${mode})`, () => {
          const a = mode === 'path' ? artifact : digestOnly(artifact, 'sha256');
          const [r] = verifyAll(
            `sigstore-js/client-fixtures/${name}.sigstore.json`,
            a,
            clientRoot,
            identity,
          );
          assert.equal(r!.matchedSubject.digest, artifact.digests[r!.matchedSubject.algorithm]);
        });
      }
    }
    it('verifies valid.v1.dsse.withPublicKey with key-1', () => {
      const [r] = verifyAll(
        'sigstore-js/client-fixtures/valid.v1.dsse.withPublicKey.sigstore.json',
        artifact,
        clientRoot,
        undefined,
        'sigstore-js/client-fixtures/publicKey.key-1.pem',
      );
      assert.deepEqual(r!.signer, { kind: 'key', keyId: 'key-1' });
    });
    it('throws CERTIFICATE_NOT_VALID_AT_SIGNING_TIME for invalidExpiredCert', () => {
      assertCode(
        () =>
          verifyAll(
            'sigstore-js/client-fixtures/invalid.v1.messageSignature.invalidExpiredCert.sigstore.json',
            artifact,
            clientRoot,
          ),
        'CERTIFICATE_NOT_VALID_AT_SIGNING_TIME',
      );
    });
    it('throws SIGNATURE_INVALID for invalidBadSignature', () => {
      assertCode(
        () =>
          verifyAll(
            'sigstore-js/client-fixtures/invalid.v1.dsse.invalidBadSignature.sigstore.json',
            artifact,
            clientRoot,
          ),
        'SIGNATURE_INVALID',
      );
    });
  });

  describe('sigstore-js verify-fixtures (Rekor v2, RFC 3161)', () => {
    const artifact = bytesArtifact('sigstore-js/client-fixtures/artifact.txt');
    for (const name of [
      'verify.V1.DSSE.WITH_SIGNING_CERT.TLOG_DSSE',
      'verify.V1.DSSE.WITH_SIGNING_CERT.TLOG_INTOTO',
      'verify.V1.MESSAGE_SIGNATURE.WITH_SIGNING_CERT',
      'verify.V3.DSSE.WITH_SIGNING_CERT.TLOG_DSSEV002',
      'verify.V3.MESSAGE_SIGNATURE.TLOG_HASHEDREKORDV002',
    ]) {
      it(`verifies ${name} digest-only`, () => {
        const [r] = verifyAll(
          `sigstore-js/verify-fixtures/${name}.sigstore.json`,
          digestOnly(artifact, 'sha256'),
          verifyRoot,
        );
        assert.ok(r!.timestamps.some((t) => t.source === 'rfc3161'));
      });
    }
    it('verifies a Rekor v2 dsse 0.0.2 entry by inclusion proof and an RFC 3161 time', () => {
      const [r] = verifyAll(
        'sigstore-js/verify-fixtures/verify.V3.DSSE.WITH_SIGNING_CERT.TLOG_DSSEV002.sigstore.json',
        artifact,
        verifyRoot,
      );
      assert.deepEqual(
        r!.tlogEntries.map((t) => [t.kind, t.version, t.proof]),
        [['dsse', '0.0.2', 'inclusion-proof']],
      );
      assert.deepEqual(
        r!.timestamps.map((t) => t.source),
        ['rfc3161'],
      );
    });
    it('verifies the key-signed message signature with PUBLIC_KEY.pem', () => {
      const [r] = verifyAll(
        'sigstore-js/verify-fixtures/verify.V1.MESSAGE_SIGNATURE.WITH_PUBLIC_KEY.sigstore.json',
        digestOnly(artifact, 'sha256'),
        verifyRoot,
        undefined,
        'sigstore-js/verify-fixtures/PUBLIC_KEY.pem',
      );
      assert.equal(r!.signer.kind, 'key');
    });
    it('throws TLOG_MISSING for a bundle with a timestamp but no log entry', () => {
      assertCode(
        () =>
          verifyAll(
            'sigstore-js/verify-fixtures/verify.V3.MESSAGE_SIGNATURE.WITH_SIGNING_CERT.sigstore.json',
            artifact,
            verifyRoot,
          ),
        'TLOG_MISSING',
      );
    });
  });

  describe('gh attestation samples', () => {
    const tgz = bytesArtifact('gh-attestation/sigstore-js-2.1.0.tgz');
    const signer =
      'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main';
    for (const name of [
      'sigstore-js-2.1.0-bundle.json',
      'sigstore-js-2.1.0-bundle-v0.1.json',
      'sigstore-js-2.1.0_with_2_bundles.jsonl',
    ]) {
      for (const mode of ['path', 'digest'] as const) {
        it(`verifies ${name} (${mode})`, () => {
          const results = verifyAll(
            `gh-attestation/${name}`,
            mode === 'path' ? tgz : digestOnly(tgz, 'sha512'),
            publicGood,
            {
              subjectAlternativeName: { exact: signer },
              issuer: { exact: GH_ISSUER },
              claims: { sourceRepositoryUri: { exact: 'https://github.com/sigstore/sigstore-js' } },
            },
          );
          assert.ok(results.length >= 1);
          for (const r of results) {
            assert.equal(r.provenance?.slsaVersion, '1');
            assert.equal(
              r.provenance?.sourceRepositoryUri,
              'https://github.com/sigstore/sigstore-js',
            );
          }
        });
      }
    }
    it('throws CLAIM_MISMATCH for repository sigstore/fakerepo', () => {
      assertCode(
        () =>
          verifyAll('gh-attestation/sigstore-js-2.1.0-bundle.json', tgz, publicGood, {
            claims: { sourceRepositoryUri: { exact: 'https://github.com/sigstore/fakerepo' } },
          }),
        'CLAIM_MISMATCH',
      );
    });
    it('throws CLAIM_MISMATCH for owner fakeowner', () => {
      assertCode(
        () =>
          verifyAll('gh-attestation/sigstore-js-2.1.0-bundle.json', tgz, publicGood, {
            claims: { sourceRepositoryOwnerUri: { exact: 'https://github.com/fakeowner' } },
          }),
        'CLAIM_MISMATCH',
      );
    });
    it('verifies the reusable-workflow attestation for its signer workflow, and not for foo/bar', () => {
      const a = bytesArtifact('gh-attestation/reusable-workflow-artifact');
      const path = 'gh-attestation/reusable-workflow-attestation.sigstore.json';
      const [r] = verifyAll(path, a, publicGood, {
        claims: {
          buildSignerUri: {
            regex: String.raw`https://github\.com/github/artifact-attestations-workflows/\.github/workflows/attest\.yml@.*`,
          },
        },
      });
      assert.equal(
        r!.signer.kind === 'certificate' && r!.signer.claims.sourceRepositoryUri,
        'https://github.com/malancas/attest-demo',
      );
      assertCode(
        () =>
          verifyAll(path, a, publicGood, {
            claims: {
              buildSignerUri: {
                regex: String.raw`https://github\.com/foo/bar/\.github/workflows/attest\.yml@.*`,
              },
            },
          }),
        'CLAIM_MISMATCH',
      );
    });
    it('verifies the custom-issuer attestation only when that issuer is expected', () => {
      const a = bytesArtifact('gh-attestation/custom-issuer-artifact');
      const path = 'gh-attestation/custom-issuer.sigstore.json';
      verifyAll(path, a, publicGood, { issuer: { exact: `${GH_ISSUER}/hammer-time` } });
      assertCode(
        () => verifyAll(path, a, publicGood, { issuer: { exact: GH_ISSUER } }),
        'ISSUER_MISMATCH',
      );
    });
    it("throws UNTRUSTED_CA for GitHub's own instance without GitHub's trusted root", () => {
      const a = bytesArtifact('gh-attestation/github_provenance_demo-0.0.12-py3-none-any.whl');
      assertCode(
        () =>
          verifyAll('gh-attestation/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl', a),
        'UNTRUSTED_CA',
      );
    });
    it('throws MALFORMED_BUNDLE for the -missing-cert and -missing-verification-material variants', () => {
      const a = bytesArtifact('gh-attestation/github_provenance_demo-0.0.12-py3-none-any.whl');
      for (const v of ['missing-cert', 'missing-verification-material']) {
        assertCode(
          () =>
            verifyAll(
              `gh-attestation/github_provenance_demo-0.0.12-py3-none-any-bundle-${v}.jsonl`,
              a,
            ),
          'MALFORMED_BUNDLE',
        );
      }
    });
    it('throws SIGNATURE_INVALID for sigstoreBundle-invalid-signature.json', () => {
      assertCode(
        () =>
          verifyAll(
            'gh-attestation/sigstoreBundle-invalid-signature.json',
            bytesArtifact('sigstore-js/client-fixtures/artifact.txt'),
          ),
        'SIGNATURE_INVALID',
      );
    });
  });

  describe('slsa-github-generator generic v2.1.0 (digest only)', () => {
    const artifact: Artifact = {
      digests: { sha256: '376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa' },
    };
    const builder =
      'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0';
    const cases = [
      ['binary-linux-amd64-workflow_dispatch', 'refs/heads/main'],
      ['binary-linux-amd64-push-v13.0.30', 'refs/tags/v13.0.30'],
      ['binary-linux-amd64-push-v14', 'refs/tags/v14'],
      ['binary-linux-amd64-push-v14.2', 'refs/tags/v14.2'],
    ] as const;
    for (const [name, ref] of cases) {
      it(`verifies ${name} (source ref ${ref})`, () => {
        const [r] = verifyAll(
          `slsa-github-generator/generic-v2.1.0/${name}.intoto.jsonl`,
          artifact,
          publicGood,
          {
            subjectAlternativeName: { exact: builder },
            issuer: { exact: GH_ISSUER },
          },
        );
        assert.equal(r!.provenance?.slsaVersion, '0.2');
        assert.equal(r!.provenance?.builderId, builder);
        assert.equal(
          r!.provenance?.sourceRepositoryUri,
          'https://github.com/slsa-framework/example-package',
        );
        assert.equal(r!.provenance?.sourceRef, ref);
      });
    }
    it('throws IDENTITY_MISMATCH for an untrusted builder workflow', () => {
      assertCode(
        () =>
          verifyAll(
            'slsa-github-generator/generic-v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl',
            artifact,
            publicGood,
            {
              subjectAlternativeName: {
                exact:
                  'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml@refs/tags/v2.1.0',
              },
            },
          ),
        'IDENTITY_MISMATCH',
      );
    });
  });

  describe('npm registry attestations (publish + provenance)', () => {
    const packages = [
      ['supreme-googles-cli-v02-tag', 'pkg:npm/%40trishankatdatadog/supreme-goggles@1.0.5'],
      ['gundam-visor-cli-v1-tag', 'pkg:npm/gundam-visor@1.0.1'],
      ['provenance-npm-test-cli-v02-prega', 'pkg:npm/%40laurentsimon/provenance-npm-test@1.0.3'],
      ['provenance-npm-test-cli-v1-prega', 'pkg:npm/sigstore@2.3.1'],
      ['provenance-npm-test-ossf', 'pkg:npm/%40laurentsimon/provenance-npm-test@1.0.5'],
    ] as const;
    for (const [name, purl] of packages) {
      for (const mode of ['path', 'digest'] as const) {
        it(`verifies ${name} (${mode}): the registry's publish attestation and the provenance`, () => {
          const tgz = bytesArtifact(`npm-attestations/${name}.tgz`);
          const results = verifyAll(
            `npm-attestations/${name}.tgz.json`,
            mode === 'path' ? tgz : digestOnly(tgz, 'sha512'),
          );
          assert.equal(results.length, 2);
          assert.deepEqual(results.map((r) => r.signer.kind).sort(), ['certificate', 'key']);
          for (const r of results)
            assert.equal(decodeURIComponent(r.matchedSubject.name ?? ''), decodeURIComponent(purl));
        });
      }
      it(`throws SIGNATURE_INVALID for ${name}-invalidsigprov and -invalidsigpub`, () => {
        for (const v of ['invalidsigprov', 'invalidsigpub']) {
          const tgz = bytesArtifact(`npm-attestations/${name}-${v}.tgz`);
          assertCode(
            () => verifyAll(`npm-attestations/${name}-${v}.tgz.json`, tgz),
            'SIGNATURE_INVALID',
          );
        }
      });
    }
    it('throws SUBJECT_DIGEST_MISMATCH when the attestations are for another tarball', () => {
      const other = bytesArtifact('npm-attestations/provenance-npm-test-ossf.tgz');
      assertCode(
        () => verifyAll('npm-attestations/gundam-visor-cli-v1-tag.tgz.json', other),
        'SUBJECT_DIGEST_MISMATCH',
      );
    });
  });
});
