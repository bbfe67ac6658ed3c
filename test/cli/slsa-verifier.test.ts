// slsa-verifier's commands as users run them: the real executable on the real
// samples of test/fixtures (SOURCES.md), with the answers slsa-verifier's own
// tests give (cli/slsa-verifier/main_regression_test.go, verifiers/utils/source_tag.go).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertRun, batch, FIXTURES, verdict, type Run } from './fixtures/provgate.ts';

const GENERIC = join(FIXTURES, 'slsa-github-generator/generic-v2.1.0');
const NPM = join(FIXTURES, 'npm-attestations');
// The artifact every generic-v2.1.0 bundle is about (the binaries are not checked in).
const DIGEST = 'sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa';
const SOURCE = 'github.com/slsa-framework/example-package';
const GENERIC_BUILDER =
  'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml';
const NODEJS_BUILDER =
  'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml';
const RUNNER_BUILDER = 'https://github.com/actions/runner/github-hosted';
const PASSED = /^PASSED: SLSA verification passed$/m;
const FAILED = /^FAILED: SLSA verification failed: /m;

const provenance = (build: string) => join(GENERIC, `binary-linux-amd64-${build}.intoto.jsonl`);

describe('provgate verify-artifact', () => {
  const cases = batch();
  const artifact = (build: string, ...flags: string[]) =>
    cases.add('verify-artifact', DIGEST, '--provenance-path', provenance(build), ...flags);
  const dispatch = (...flags: string[]) =>
    artifact('workflow_dispatch', '--source-uri', SOURCE, ...flags);
  // A file that is not the artifact, for the several-artifacts case.
  const scratch = mkdtempSync(join(tmpdir(), 'provgate-cli-'));
  const other = join(scratch, 'other-binary');
  writeFileSync(other, 'not the artifact the provenance is about\n');

  before(() => cases.run());
  after(() => rmSync(scratch, { recursive: true, force: true }));

  describe('when the artifact was built from branch main (workflow_dispatch)', () => {
    const plain = dispatch();
    const main = dispatch('--source-branch', 'main');
    const master = dispatch('--source-branch', 'master');
    const tag = dispatch('--source-tag', 'v1.2.3');
    const versioned = dispatch('--source-versioned-tag', 'v1');
    const sources = [
      'github.com/slsa-framework/example-packag',
      'github.com/laurentsimon/example-package',
    ].map((s) => [s, artifact('workflow_dispatch', '--source-uri', s)] as const);

    it('passes with its source repository', () => {
      assertRun(plain(), 0, PASSED);
      assert.match(plain().stderr, new RegExp(`^Verifying artifact ${DIGEST}: PASSED$`, 'm'));
    });
    it('passes with --source-branch main', () => assertRun(main(), 0, PASSED));
    it('fails with --source-branch master', () =>
      assertRun(
        master(),
        1,
        /source ref refs\/heads\/main is not the branch source_branch requires: refs\/heads\/master/,
      ));
    it('fails with any --source-tag', () =>
      assertRun(tag(), 1, /is not the tag source_tag requires: refs\/tags\/v1\.2\.3/));
    it('fails with any --source-versioned-tag', () =>
      assertRun(versioned(), 1, /does not match source_versioned_tag v1/));
    it('fails with another --source-uri', () => {
      for (const [source, r] of sources) {
        assertRun(r(), 1, /is not in allowed_sources/);
        assert.match(verdict(r()), new RegExp(`\\[${source.replace(/\./g, '\\.')}\\]`));
      }
    });
  });

  describe('with --builder-id', () => {
    const untrusted = dispatch(
      '--builder-id',
      'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml',
    );
    const name = dispatch('--builder-id', GENERIC_BUILDER);
    const ref = dispatch('--builder-id', `${GENERIC_BUILDER}@refs/tags/v2.1.0`);
    const short = dispatch('--builder-id', `${GENERIC_BUILDER}@v2.1.0`);
    const older = dispatch('--builder-id', `${GENERIC_BUILDER}@refs/tags/v2.0.0`);

    it('fails for a builder that did not build it (not-trusted.yml)', () =>
      assertRun(
        untrusted(),
        1,
        /does not match builder_id https:\/\/github\.com\/slsa-framework\/slsa-github-generator\/\.github\/workflows\/not-trusted\.yml/,
      ));
    it('passes for the generic generator, with or without its version', () => {
      assertRun(name(), 0, PASSED);
      assertRun(ref(), 0, PASSED);
      // slsa-verifier matches `@v2.1.0` against `@refs/tags/v2.1.0` (MatchesLoose, allowRef).
      assertRun(short(), 0, PASSED);
    });
    it('fails for the generic generator at another version', () =>
      assertRun(older(), 1, /does not match builder_id/));
  });

  describe('with --build-workflow-input', () => {
    // This workflow_dispatch run had no inputs (github_event_payload.inputs is null).
    const mismatch = dispatch('--build-workflow-input', 'release_version=v1.2.3');
    it('fails when the provenance does not have that input value', () =>
      assertRun(
        mismatch(),
        1,
        /workflow input release_version=\(missing\) does not match workflow_inputs release_version=v1\.2\.3/,
      ));
  });

  // slsa-verifier's semantics (VerifyVersionedTag): the provenance tag is
  // canonicalized (v14 -> v14.0.0, v14.2 -> v14.2.0); the expected value must be
  // a valid Go semver; its major must match, and its minor and patch only when
  // given. So v14 and v14.0 accept tag v14, v14.2 does not; v14 accepts tag v14.2,
  // v14.2.1 does not.
  describe('when the artifact was built from a tag', () => {
    const matrix: [build: string, flag: string, value: string, passes: boolean][] = [
      ['push-v13.0.30', '--source-tag', 'v13.0.30', true],
      ['push-v13.0.30', '--source-tag', 'v13.0.29', false],
      ['push-v13.0.30', '--source-versioned-tag', 'v13', true],
      ['push-v13.0.30', '--source-versioned-tag', 'v13.0', true],
      ['push-v13.0.30', '--source-versioned-tag', 'v13.0.30', true],
      ['push-v13.0.30', '--source-versioned-tag', 'v13.1', false],
      ['push-v13.0.30', '--source-versioned-tag', 'v12.9', false],
      ['push-v13.0.30', '--source-versioned-tag', 'v13.0.31', false],
      ['push-v14', '--source-versioned-tag', 'v14', true],
      ['push-v14', '--source-versioned-tag', 'v14.0', true],
      ['push-v14', '--source-versioned-tag', 'v14.1', false],
      ['push-v14', '--source-versioned-tag', 'v14.2', false],
      ['push-v14', '--source-versioned-tag', 'v13', false],
      ['push-v14', '--source-versioned-tag', 'v15', false],
      ['push-v14.2', '--source-versioned-tag', 'v14.2', true],
      ['push-v14.2', '--source-versioned-tag', 'v14', true],
      ['push-v14.2', '--source-versioned-tag', 'v14.2.1', false],
      ['push-v14.2', '--source-versioned-tag', 'v14.1', false],
      ['push-v14.2', '--source-versioned-tag', 'v14.3.1', false],
      ['push-v14.2', '--source-versioned-tag', 'v13', false],
      ['push-v14.2', '--source-versioned-tag', 'v15', false],
    ];
    const runs = matrix.map(
      ([build, flag, value, passes]) =>
        [build, flag, value, passes, artifact(build, '--source-uri', SOURCE, flag, value)] as const,
    );

    it('gives slsa-verifier’s answer for every tag and versioned tag', () => {
      const wrong = runs
        .filter(([, , , passes, r]) => r().status !== (passes ? 0 : 1))
        .map(
          ([build, flag, value, passes, r]) =>
            `${build} ${flag} ${value}: exit ${String(r().status)}, expected ${passes ? 0 : 1}: ${verdict(r())}`,
        );
      assert.deepEqual(wrong, []);
      for (const [, flag, value, passes, r] of runs) {
        if (passes) continue;
        assert.match(
          verdict(r()),
          flag === '--source-tag'
            ? /is not the tag source_tag requires/
            : new RegExp(`does not match source_versioned_tag ${value.replace(/\./g, '\\.')}`),
        );
      }
    });
  });

  describe('with --print-provenance', () => {
    const printed = dispatch('--print-provenance');
    const denied = dispatch('--print-provenance', '--source-branch', 'master');
    it('prints the verified statement on stdout', () => {
      assertRun(printed(), 0, PASSED);
      const lines = printed().stdout.trim().split('\n');
      assert.equal(lines.length, 1);
      const statement = JSON.parse(lines[0]!) as {
        predicateType: string;
        subject: { digest: { sha256: string } }[];
      };
      assert.equal(statement.predicateType, 'https://slsa.dev/provenance/v0.2');
      assert.equal(`sha256:${statement.subject[0]!.digest.sha256}`, DIGEST);
    });
    it('prints nothing for an artifact that failed, as slsa-verifier', () => {
      assertRun(denied(), 1, FAILED);
      assert.equal(denied().stdout, '');
    });
  });

  describe('with several artifacts', () => {
    const same = cases.add(
      'verify-artifact',
      DIGEST,
      DIGEST,
      '--provenance-path',
      provenance('workflow_dispatch'),
      '--source-uri',
      SOURCE,
    );
    const mixed = cases.add(
      'verify-artifact',
      DIGEST,
      other,
      '--provenance-path',
      provenance('workflow_dispatch'),
      '--source-uri',
      SOURCE,
    );
    it('passes when the provenance is about each of them', () => {
      assertRun(same(), 0, PASSED);
      assert.equal(same().stderr.match(/^Verifying artifact .*: PASSED$/gm)?.length, 2);
    });
    it('fails, naming the artifact, when one is not its subject', () => {
      assertRun(mixed(), 1, /SUBJECT_DIGEST_MISMATCH/);
      assert.match(mixed().stderr, new RegExp(`^Verifying artifact ${DIGEST}: PASSED$`, 'm'));
      assert.match(mixed().stderr, /^Verifying artifact other-binary: FAILED$/m);
    });
  });

  describe('when used wrongly', () => {
    const path = provenance('workflow_dispatch');
    const usage: [what: string, run: () => Run, reason: RegExp][] = [
      [
        'without --source-uri',
        cases.add('verify-artifact', DIGEST, '--provenance-path', path),
        /--source-uri is required/,
      ],
      [
        'without an artifact',
        cases.add('verify-artifact', '--provenance-path', path, '--source-uri', SOURCE),
        /give at least one ARTIFACT/,
      ],
      [
        'with --source-tag and --source-versioned-tag',
        dispatch('--source-tag', 'v1.2.3', '--source-versioned-tag', 'v1'),
        /--source-tag and --source-versioned-tag cannot be combined/,
      ],
      [
        'with an input that is not KEY=VALUE',
        dispatch('--build-workflow-input', 'release_version'),
        /--build-workflow-input takes KEY=VALUE/,
      ],
      [
        'with an unreadable provenance file',
        cases.add(
          'verify-artifact',
          DIGEST,
          '--provenance-path',
          join(GENERIC, 'missing.intoto.jsonl'),
          '--source-uri',
          SOURCE,
        ),
        /cannot read .*missing\.intoto\.jsonl/,
      ],
      [
        'with a malformed digest',
        cases.add(
          'verify-artifact',
          'sha256:abc',
          '--provenance-path',
          path,
          '--source-uri',
          SOURCE,
        ),
        /is not a digest/,
      ],
    ];
    for (const [what, run, reason] of usage) {
      it(`exits 2 ${what}`, () => assertRun(run(), 2, reason));
    }
  });
});

describe('provgate verify-npm-package', () => {
  const cases = batch();
  const npm = (file: string, ...flags: string[]) =>
    cases.add(
      'verify-npm-package',
      join(NPM, `${file}.tgz`),
      '--attestations-path',
      join(NPM, `${file}.tgz.json`),
      ...flags,
    );
  // The passing packages of SOURCES.md: file, name, version, source, builder.
  const packages = [
    [
      'supreme-googles-cli-v02-tag',
      '@trishankatdatadog/supreme-goggles',
      '1.0.5',
      'github.com/trishankatdatadog/supreme-goggles',
      RUNNER_BUILDER,
    ],
    [
      'gundam-visor-cli-v1-tag',
      'gundam-visor',
      '1.0.1',
      'github.com/ramonpetgrave64/gundam-visor',
      RUNNER_BUILDER,
    ],
    [
      'provenance-npm-test-cli-v02-prega',
      '@laurentsimon/provenance-npm-test',
      '1.0.3',
      'github.com/laurentsimon/provenance-npm-test',
      RUNNER_BUILDER,
    ],
    [
      'provenance-npm-test-cli-v1-prega',
      'sigstore',
      '2.3.1',
      'github.com/sigstore/sigstore-js',
      RUNNER_BUILDER,
    ],
    [
      'provenance-npm-test-ossf',
      '@laurentsimon/provenance-npm-test',
      '1.0.5',
      'github.com/laurentsimon/provenance-npm-test',
      NODEJS_BUILDER,
    ],
  ] as const;
  const flags = (name: string, version: string, source: string, builder: string) => [
    '--package-name',
    name,
    '--package-version',
    version,
    '--source-uri',
    source,
    '--builder-id',
    builder,
  ];
  const good = packages.map(([file, name, version, source, builder]) => ({
    file,
    run: npm(file, ...flags(name, version, source, builder)),
    badProvenance: npm(`${file}-invalidsigprov`, ...flags(name, version, source, builder)),
    badPublish: npm(`${file}-invalidsigpub`, ...flags(name, version, source, builder)),
  }));
  const gundam = (name: string, version: string, source: string, builder = RUNNER_BUILDER) =>
    npm('gundam-visor-cli-v1-tag', ...flags(name, version, source, builder));
  const wrongName = gundam('gundam-visors', '1.0.1', 'github.com/ramonpetgrave64/gundam-visor');
  const wrongVersion = gundam('gundam-visor', '1.0.2', 'github.com/ramonpetgrave64/gundam-visor');
  const wrongSource = gundam('gundam-visor', '1.0.1', 'github.com/ramonpetgrave64/gundam-visors');
  const wrongBuilder = gundam(
    'gundam-visor',
    '1.0.1',
    'github.com/ramonpetgrave64/gundam-visor',
    NODEJS_BUILDER,
  );
  const unscoped = npm(
    'supreme-googles-cli-v02-tag',
    ...flags(
      'supreme-goggles',
      '1.0.5',
      'github.com/trishankatdatadog/supreme-goggles',
      RUNNER_BUILDER,
    ),
  );
  const ossfAsRunner = npm(
    'provenance-npm-test-ossf',
    ...flags(
      '@laurentsimon/provenance-npm-test',
      '1.0.5',
      'github.com/laurentsimon/provenance-npm-test',
      RUNNER_BUILDER,
    ),
  );
  const printed = npm(
    'provenance-npm-test-ossf',
    ...flags(
      '@laurentsimon/provenance-npm-test',
      '1.0.5',
      'github.com/laurentsimon/provenance-npm-test',
      NODEJS_BUILDER,
    ),
    '--print-provenance',
  );

  before(() => cases.run());

  describe('when the package, its publish attestation and its provenance verify', () => {
    for (const { file, run } of good) {
      it(`passes ${file} with its name, version, source and builder`, () => {
        assertRun(run(), 0, PASSED);
        assert.match(
          run().stderr,
          new RegExp(`^Verifying npm package ${file}\\.tgz: PASSED$`, 'm'),
        );
      });
    }
    it('prints only the SLSA provenance with --print-provenance', () => {
      assertRun(printed(), 0, PASSED);
      const lines = printed().stdout.trim().split('\n');
      assert.equal(lines.length, 1);
      assert.equal(
        (JSON.parse(lines[0]!) as { predicateType: string }).predicateType,
        'https://slsa.dev/provenance/v0.2',
      );
    });
  });

  describe('when a signature was tampered with', () => {
    for (const { file, badProvenance, badPublish } of good) {
      it(`fails ${file}-invalidsigprov (provenance) with SIGNATURE_INVALID`, () => {
        assertRun(badProvenance(), 1, /attestations\[1\] failed verification: SIGNATURE_INVALID/);
        assert.match(verdict(badProvenance()), /no verified SLSA provenance/);
      });
      it(`fails ${file}-invalidsigpub (publish attestation) with SIGNATURE_INVALID`, () => {
        assertRun(badPublish(), 1, /attestations\[0\] failed verification: SIGNATURE_INVALID/);
        assert.match(verdict(badPublish()), /no verified npm publish attestation/);
      });
    }
  });

  describe('when the flags do not describe the package', () => {
    it('fails for another --package-name', () =>
      assertRun(
        wrongName(),
        1,
        /npm package name gundam-visor .* does not match package_name gundam-visors/,
      ));
    it('fails for another --package-version', () =>
      assertRun(
        wrongVersion(),
        1,
        /npm package version 1\.0\.1 .* does not match package_version 1\.0\.2/,
      ));
    it('fails for another --source-uri', () =>
      assertRun(
        wrongSource(),
        1,
        /source repository github\.com\/ramonpetgrave64\/gundam-visor is not in allowed_sources/,
      ));
    it('fails for another --builder-id', () => {
      assertRun(
        wrongBuilder(),
        1,
        /builder https:\/\/github\.com\/actions\/runner\/github-hosted does not match builder_id/,
      );
      assertRun(
        ossfAsRunner(),
        1,
        /builder_nodejs_slsa3\.yml@refs\/tags\/v1\.6\.0 does not match builder_id/,
      );
    });
    it('compares a scoped name whole: the name without its scope fails', () => {
      assertRun(
        unscoped(),
        1,
        /npm package name @trishankatdatadog\/supreme-goggles .* does not match package_name supreme-goggles/,
      );
    });
  });
});
