// `gh attestation verify`'s cases as users run them: the real executable on the
// real bundles of test/fixtures/gh-attestation (from cli/cli's own tests, see
// SOURCES.md), offline (--bundle). Runner and predicate-type cases that no real
// sample covers use a throwaway Sigstore PKI generated here (test/support/pki.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createTestPki,
  DEFAULT_CLAIMS,
  FULCIO_OIDS,
  inTotoStatement,
  IN_TOTO_PAYLOAD_TYPE,
} from '../support/pki.ts';
import { assertRun, batch, FIXTURES, type Run } from './fixtures/provgate.ts';

const GH = join(FIXTURES, 'gh-attestation');
const TGZ = join(GH, 'sigstore-js-2.1.0.tgz');
const SUCCEEDED = /^✓ Verification succeeded!$/m;
const FAILED = /^✗ Verification failed: /m;

const verify = (artifact: string, bundle: string, ...flags: string[]) => [
  'attestation',
  'verify',
  artifact,
  '--bundle',
  bundle,
  ...flags,
];

describe('provgate attestation verify', () => {
  const cases = batch();
  const add = (artifact: string, bundle: string, ...flags: string[]) =>
    cases.add(...verify(artifact, bundle, ...flags));
  const sigstoreJs = (bundle: string, ...flags: string[]) => add(TGZ, join(GH, bundle), ...flags);

  // Generated in before(): bundles for an artifact, signed by a GitHub Actions
  // style certificate from a test CA that only `root` trusts.
  const scratch = mkdtempSync(join(tmpdir(), 'provgate-cli-gh-'));
  const made = {
    artifact: join(scratch, 'app.tar.gz'),
    root: join(scratch, 'trusted_root.json'),
    selfHosted: join(scratch, 'self-hosted.sigstore.json'),
    githubHosted: join(scratch, 'github-hosted.sigstore.json'),
    sbom: join(scratch, 'sbom.sigstore.json'),
    // One good bundle and one whose signature was altered, as JSON Lines.
    mixed: join(scratch, 'sigstore-js-good-and-bad.jsonl'),
  };
  const generated = (bundle: string, ...flags: string[]) =>
    add(made.artifact, bundle, '--owner', 'acme', '--custom-trusted-root', made.root, ...flags);

  before(async () => {
    await writeGeneratedBundles(made);
    await cases.run();
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  describe('for sigstore-js 2.1.0 (SLSA v1 provenance, sha512 subject)', () => {
    // gh's own tests refuse the v0.1 bundle ("unsupported bundle version": gh
    // needs v0.2+); SOURCES.md expects it to pass, and provgate verifies v0.1.
    for (const bundle of [
      'sigstore-js-2.1.0-bundle.json',
      'sigstore-js-2.1.0-bundle-v0.1.json',
      'sigstore-js-2.1.0_with_2_bundles.jsonl',
    ]) {
      const owner = sigstoreJs(bundle, '--owner', 'sigstore', '--digest-alg', 'sha512');
      const repo = sigstoreJs(bundle, '--repo', 'sigstore/sigstore-js', '--digest-alg', 'sha512');
      const fakeRepo = sigstoreJs(bundle, '--repo', 'sigstore/fakerepo', '--digest-alg', 'sha512');
      const fakeOwner = sigstoreJs(bundle, '--owner', 'fakeowner', '--digest-alg', 'sha512');
      it(`passes ${bundle} with --owner sigstore and with --repo sigstore/sigstore-js`, () => {
        assertRun(owner(), 0, SUCCEEDED);
        assertRun(repo(), 0, SUCCEEDED);
      });
      it(`fails ${bundle} with --repo sigstore/fakerepo and with --owner fakeowner`, () => {
        assertRun(
          fakeRepo(),
          1,
          /IDENTITY_MISMATCH: subject alternative name .* does not match .*fakerepo/,
        );
        assertRun(
          fakeOwner(),
          1,
          /IDENTITY_MISMATCH: subject alternative name .* does not match .*fakeowner/,
        );
      });
    }
  });

  describe('with --digest-alg', () => {
    const sha256 = sigstoreJs(
      'sigstore-js-2.1.0-bundle.json',
      '--owner',
      'sigstore',
      '--digest-alg',
      'sha256',
    );
    const none = sigstoreJs('sigstore-js-2.1.0-bundle.json', '--owner', 'sigstore');
    it('fails with sha256 for a bundle whose subject has only a sha512 digest, as gh', () =>
      assertRun(sha256(), 1, /SUBJECT_DIGEST_MISMATCH/));
    it('passes without it: offline, a file is matched by both its digests', () =>
      assertRun(none(), 0, SUCCEEDED));
  });

  describe('with the signer identity', () => {
    const exact = sigstoreJs(
      'sigstore-js-2.1.0-bundle.json',
      '--owner',
      'sigstore',
      '--cert-identity',
      'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
    );
    // Anchored at both ends, unlike gh's regexes (README: identities).
    const regex = sigstoreJs(
      'sigstore-js-2.1.0-bundle.json',
      '--owner',
      'sigstore',
      '--cert-identity-regex',
      'https://github\\.com/sigstore/sigstore-js/.*',
    );
    it('passes --cert-identity and --cert-identity-regex that match the certificate', () => {
      assertRun(exact(), 0, SUCCEEDED);
      assertRun(regex(), 0, SUCCEEDED);
    });
  });

  describe('for an attestation signed by a reusable workflow', () => {
    const artifact = join(GH, 'reusable-workflow-artifact');
    const bundle = join(GH, 'reusable-workflow-attestation.sigstore.json');
    const workflow = add(
      artifact,
      bundle,
      '--owner',
      'malancas',
      '--signer-workflow',
      'github/artifact-attestations-workflows/.github/workflows/attest.yml',
    );
    const signerRepo = add(
      artifact,
      bundle,
      '--repo',
      'malancas/attest-demo',
      '--signer-repo',
      'github/artifact-attestations-workflows',
    );
    const otherWorkflow = add(
      artifact,
      bundle,
      '--owner',
      'malancas',
      '--signer-workflow',
      'foo/bar/.github/workflows/attest.yml',
    );
    const ownerOnly = add(artifact, bundle, '--owner', 'malancas');
    it('passes with its --signer-workflow or --signer-repo', () => {
      assertRun(workflow(), 0, SUCCEEDED);
      assertRun(signerRepo(), 0, SUCCEEDED);
    });
    it('fails with another --signer-workflow', () =>
      assertRun(
        otherWorkflow(),
        1,
        /IDENTITY_MISMATCH: subject alternative name .* does not match .*foo.*bar.*attest/,
      ));
    it('fails with --owner alone: the signer is not a workflow of that owner', () =>
      assertRun(ownerOnly(), 1, /IDENTITY_MISMATCH/));
  });

  describe('for an attestation from a custom OIDC issuer', () => {
    const artifact = join(GH, 'custom-issuer-artifact');
    const bundle = join(GH, 'custom-issuer.sigstore.json');
    // The certificate's source repository owner (provgate verify --format json).
    const expected = add(
      artifact,
      bundle,
      '--owner',
      'too-legit',
      '--cert-oidc-issuer',
      'https://token.actions.githubusercontent.com/hammer-time',
    );
    const defaultIssuer = add(artifact, bundle, '--owner', 'too-legit');
    it('passes only when --cert-oidc-issuer names that issuer', () => {
      assertRun(expected(), 0, SUCCEEDED);
      assertRun(
        defaultIssuer(),
        1,
        /ISSUER_MISMATCH: issuer "https:\/\/token\.actions\.githubusercontent\.com\/hammer-time"/,
      );
    });
  });

  describe('with --deny-self-hosted-runners', () => {
    const selfHosted = generated(made.selfHosted);
    const selfHostedDenied = generated(made.selfHosted, '--deny-self-hosted-runners');
    const githubHosted = generated(made.githubHosted, '--deny-self-hosted-runners');
    const real = sigstoreJs(
      'sigstore-js-2.1.0-bundle.json',
      '--owner',
      'sigstore',
      '--digest-alg',
      'sha512',
      '--deny-self-hosted-runners',
    );
    it('fails an attestation built on a self-hosted runner', () =>
      assertRun(
        selfHostedDenied(),
        1,
        /runner https:\/\/github\.com\/actions\/runner\/self-hosted is not GitHub-hosted/,
      ));
    it('passes it without the flag, as gh', () => assertRun(selfHosted(), 0, SUCCEEDED));
    it('passes attestations built on GitHub-hosted runners', () => {
      assertRun(githubHosted(), 0, SUCCEEDED);
      assertRun(real(), 0, SUCCEEDED);
    });
  });

  describe('with --predicate-type', () => {
    const other = sigstoreJs(
      'sigstore-js-2.1.0-bundle.json',
      '--owner',
      'sigstore',
      '--digest-alg',
      'sha512',
      '--predicate-type',
      'https://spdx.dev/Document',
    );
    const slsa = sigstoreJs(
      'sigstore-js-2.1.0-bundle.json',
      '--owner',
      'sigstore',
      '--digest-alg',
      'sha512',
      '--predicate-type',
      'https://slsa.dev/provenance/v1',
    );
    const sbom = generated(made.sbom, '--predicate-type', 'https://spdx.dev/Document');
    it('fails when no attestation has that predicate type', () =>
      assertRun(
        other(),
        1,
        /no verified attestation with predicate type https:\/\/spdx\.dev\/Document/,
      ));
    it('passes when one has it', () => assertRun(slsa(), 0, SUCCEEDED));
    it('passes an attestation of that type alone, without SLSA provenance, as gh', () =>
      assertRun(sbom(), 0, SUCCEEDED));
  });

  describe('without GitHub’s trusted root', () => {
    const whl = join(GH, 'github_provenance_demo-0.0.12-py3-none-any.whl');
    const demo = (suffix: string) =>
      add(
        whl,
        join(GH, `github_provenance_demo-0.0.12-py3-none-any-bundle${suffix}.jsonl`),
        '--owner',
        'github',
      );
    const good = demo('');
    const noCert = demo('-missing-cert');
    const noMaterial = demo('-missing-verification-material');
    const badSignature = sigstoreJs(
      'sigstoreBundle-invalid-signature.json',
      '--owner',
      'sigstore',
      '--digest-alg',
      'sha512',
    );
    it('fails a bundle from GitHub’s Sigstore instance with UNTRUSTED_CA', () =>
      assertRun(
        good(),
        1,
        /UNTRUSTED_CA: the signing certificate .* does not chain to a trusted certificate authority/,
      ));
    it('fails the malformed variants with MALFORMED_BUNDLE', () => {
      assertRun(noCert(), 1, /MALFORMED_BUNDLE/);
      assertRun(noMaterial(), 1, /MALFORMED_BUNDLE/);
    });
    it('fails a bundle with an altered signature with SIGNATURE_INVALID', () =>
      assertRun(badSignature(), 1, /SIGNATURE_INVALID/));
  });

  describe('with several attestations in one file', () => {
    const mixed = add(TGZ, made.mixed, '--owner', 'sigstore', '--digest-alg', 'sha512');
    it('passes when one verifies and another does not, as gh', () =>
      assertRun(mixed(), 0, SUCCEEDED));
  });

  describe('with --format json', () => {
    const passed = sigstoreJs(
      'sigstore-js-2.1.0-bundle.json',
      '--owner',
      'sigstore',
      '--digest-alg',
      'sha512',
      '--format',
      'json',
    );
    const failed = sigstoreJs(
      'sigstore-js-2.1.0-bundle.json',
      '--owner',
      'fakeowner',
      '--digest-alg',
      'sha512',
      '--format',
      'json',
    );
    const parse = (r: Run) =>
      JSON.parse(r.stdout) as { verified: boolean; attestations: { verified: boolean }[] };
    it('prints the verified attestations as JSON', () => {
      assertRun(passed(), 0);
      const out = parse(passed());
      assert.equal(out.verified, true);
      assert.equal(out.attestations[0]?.verified, true);
    });
    it('prints JSON for a failure too, with the reason on stderr', () => {
      assertRun(failed(), 1, FAILED);
      assert.equal(parse(failed()).verified, false);
    });
  });

  describe('with --custom-trusted-root', () => {
    const ghRoot = sigstoreJs(
      'sigstore-js-2.1.0-bundle.json',
      '--owner',
      'sigstore',
      '--digest-alg',
      'sha512',
      '--custom-trusted-root',
      join(GH, 'trusted_root.json'),
    );
    const otherRoot = sigstoreJs(
      'sigstore-js-2.1.0-bundle.json',
      '--owner',
      'sigstore',
      '--digest-alg',
      'sha512',
      '--custom-trusted-root',
      made.root,
    );
    it('passes with gh’s trusted_root.json (JSON Lines)', () => assertRun(ghRoot(), 0, SUCCEEDED));
    it('uses that root instead of the embedded one', () =>
      assertRun(otherRoot(), 1, /UNTRUSTED_CA/));
  });

  describe('when used wrongly', () => {
    const bundle = join(GH, 'sigstore-js-2.1.0-bundle.json');
    const usage: [what: string, run: () => Run, reason: RegExp][] = [
      [
        'with --owner and --repo',
        add(TGZ, bundle, '--owner', 'sigstore', '--repo', 'sigstore/sigstore-js'),
        /give exactly one of --owner and --repo/,
      ],
      ['without --owner or --repo', add(TGZ, bundle), /give exactly one of --owner and --repo/],
      [
        'without --bundle',
        cases.add('attestation', 'verify', TGZ, '--owner', 'sigstore'),
        /--bundle is required/,
      ],
      [
        'with two signer flags',
        add(
          TGZ,
          bundle,
          '--owner',
          'sigstore',
          '--signer-repo',
          'sigstore/sigstore-js',
          '--cert-identity',
          'x',
        ),
        /--signer-repo, --cert-identity cannot be combined/,
      ],
      [
        'with --digest-alg sha384',
        add(TGZ, bundle, '--owner', 'sigstore', '--digest-alg', 'sha384'),
        /--digest-alg must be sha256 or sha512/,
      ],
    ];
    for (const [what, run, reason] of usage) {
      it(`exits 2 ${what}`, () => assertRun(run(), 2, reason));
    }
  });
});

/** Writes the generated artifact, trusted root and bundles (paths in `to`). */
async function writeGeneratedBundles(to: {
  artifact: string;
  root: string;
  selfHosted: string;
  githubHosted: string;
  sbom: string;
  mixed: string;
}): Promise<void> {
  const pki = await createTestPki();
  const artifact = Buffer.from('acme app 1.0.0\n');
  writeFileSync(to.artifact, artifact);
  writeFileSync(to.root, JSON.stringify(pki.trustedRoot));
  const subject = [
    { name: 'app.tar.gz', digest: { sha256: createHash('sha256').update(artifact).digest('hex') } },
  ];
  // What actions/attest-build-provenance signs, from acme/app's release workflow.
  const san = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
  const claims = (runner: string) => ({
    ...DEFAULT_CLAIMS,
    [FULCIO_OIDS.buildSignerURI]: san,
    [FULCIO_OIDS.runnerEnvironment]: runner,
    [FULCIO_OIDS.sourceRepositoryURI]: 'https://github.com/acme/app',
    [FULCIO_OIDS.sourceRepositoryOwnerURI]: 'https://github.com/acme',
    [FULCIO_OIDS.sourceRepositoryRef]: 'refs/heads/main',
    [FULCIO_OIDS.sourceRepositoryDigest]: 'a'.repeat(40),
  });
  const provenance = (runner: string) =>
    inTotoStatement(subject, 'https://slsa.dev/provenance/v1', {
      buildDefinition: {
        buildType: 'https://actions.github.io/buildtypes/workflow/v1',
        externalParameters: {
          workflow: {
            ref: 'refs/heads/main',
            repository: 'https://github.com/acme/app',
            path: '.github/workflows/release.yml',
          },
        },
      },
      runDetails: { builder: { id: `https://github.com/actions/runner/${runner}` } },
    });
  const sign = async (statement: Buffer, runner: string) =>
    JSON.stringify(
      await pki.signDsse(statement, IN_TOTO_PAYLOAD_TYPE, { san, claims: claims(runner) }),
    );
  writeFileSync(to.selfHosted, await sign(provenance('self-hosted'), 'self-hosted'));
  writeFileSync(to.githubHosted, await sign(provenance('github-hosted'), 'github-hosted'));
  writeFileSync(
    to.sbom,
    await sign(
      inTotoStatement(subject, 'https://spdx.dev/Document', { spdxVersion: 'SPDX-2.3' }),
      'github-hosted',
    ),
  );
  const line = (file: string) => JSON.stringify(JSON.parse(readFileSync(join(GH, file), 'utf8')));
  writeFileSync(
    to.mixed,
    `${line('sigstore-js-2.1.0-bundle.json')}\n${line('sigstoreBundle-invalid-signature.json')}\n`,
  );
}
