// The default policy on real inputs: policies/examples/*.json are what the
// verification core reports for the real samples of test/fixtures (SOURCES.md
// gives the results upstream projects assert). Every case runs twice, through
// OPA's Rego evaluator and through the committed Wasm bundle in opa-wasm, and
// both must give the same, expected decision: a builtin or behaviour that
// differs between the two fails here.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { INSTALL_TIMEOUT_MS, POLICIES, ROOT, installOpa, readBundle, run } from './opa.ts';

interface Decision {
  allow: boolean;
  deny: string[];
  warn: string[];
}

interface Case {
  example: string;
  params: Record<string, unknown>;
  /** The whole decision, or only whether it allows. */
  expect: Decision | boolean;
}

const EXAMPLE_PACKAGE = 'github.com/slsa-framework/example-package';
const GENERATOR =
  'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml';
const NODEJS_BUILDER =
  'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml';
const GITHUB_HOSTED = 'https://github.com/actions/runner/github-hosted';
const NO_PUBLISH = { require_npm_publish_attestation: false };
const NO_SOURCE_WARNING = 'accepting any source repository: no allowed_sources are configured';

const allowed: Decision = { allow: true, deny: [], warn: [] };
const denied = (...deny: string[]): Decision => ({ allow: false, deny, warn: [] });

const generic = (
  tag: string,
  params: Record<string, unknown>,
  expect: Decision | boolean,
): Case => ({
  example: `generic-v2.1.0-${tag}`,
  params: { allowed_sources: [EXAMPLE_PACKAGE], ...params },
  expect,
});

const versioned = (tag: string, pass: string[], fail: string[]): Case[] => [
  ...pass.map((v) => generic(tag, { source_versioned_tag: v }, true)),
  ...fail.map((v) => generic(tag, { source_versioned_tag: v }, false)),
];

const npmPackages = [
  ['gundam-visor-cli-v1-tag', 'gundam-visor', '1.0.1', 'github.com/ramonpetgrave64/gundam-visor'],
  [
    'supreme-googles-cli-v02-tag',
    '@trishankatdatadog/supreme-goggles',
    '1.0.5',
    'github.com/trishankatdatadog/supreme-goggles',
  ],
  [
    'provenance-npm-test-cli-v02-prega',
    '@laurentsimon/provenance-npm-test',
    '1.0.3',
    'github.com/laurentsimon/provenance-npm-test',
  ],
  ['provenance-npm-test-cli-v1-prega', 'sigstore', '2.3.1', 'github.com/sigstore/sigstore-js'],
  [
    'provenance-npm-test-ossf',
    '@laurentsimon/provenance-npm-test',
    '1.0.5',
    'github.com/laurentsimon/provenance-npm-test',
  ],
] as const;

const npm = (
  [file, name, version, source]: (typeof npmPackages)[number],
  params: Record<string, unknown>,
  expect: Decision | boolean,
): Case => ({
  example: `npm-${file}`,
  params: { package_name: name, package_version: version, allowed_sources: [source], ...params },
  expect,
});

const [gundam] = npmPackages;

const CASES: Case[] = [
  // generic-v2.1.0, built from branch main.
  {
    example: 'generic-v2.1.0-workflow_dispatch',
    params: {},
    expect: { ...allowed, warn: [NO_SOURCE_WARNING] },
  },
  generic('workflow_dispatch', {}, allowed),
  generic('workflow_dispatch', { source_branch: 'main' }, allowed),
  generic(
    'workflow_dispatch',
    { source_branch: 'master' },
    denied(
      'source ref refs/heads/main is not the branch source_branch requires: refs/heads/master',
    ),
  ),
  generic(
    'workflow_dispatch',
    { source_tag: 'v13.0.30' },
    denied('source ref refs/heads/main is not the tag source_tag requires: refs/tags/v13.0.30'),
  ),
  generic(
    'workflow_dispatch',
    { source_versioned_tag: 'v13' },
    denied('source ref refs/heads/main does not match source_versioned_tag v13: it is not a tag'),
  ),
  generic(
    'workflow_dispatch',
    { allowed_sources: ['github.com/slsa-framework/other-package'] },
    denied(
      'source repository github.com/slsa-framework/example-package is not in allowed_sources [github.com/slsa-framework/other-package]',
    ),
  ),
  generic('workflow_dispatch', { builder_id: GENERATOR }, allowed),
  generic('workflow_dispatch', { builder_id: `${GENERATOR}@v2.1.0` }, allowed),
  generic(
    'workflow_dispatch',
    {
      builder_id:
        'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml',
    },
    denied(
      `builder ${GENERATOR}@refs/tags/v2.1.0 does not match builder_id https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml`,
    ),
  ),
  // Built from tag v13.0.30.
  generic('push-v13.0.30', { source_tag: 'v13.0.30' }, allowed),
  generic(
    'push-v13.0.30',
    { source_tag: 'v13.0.29' },
    denied('source ref refs/tags/v13.0.30 is not the tag source_tag requires: refs/tags/v13.0.29'),
  ),
  generic(
    'push-v13.0.30',
    { source_versioned_tag: 'v13.1' },
    denied(
      'source ref refs/tags/v13.0.30 does not match source_versioned_tag v13.1: minor version expected 1, got 0',
    ),
  ),
  ...versioned(
    'push-v13.0.30',
    ['v13', 'v13.0', 'v13.0.30'],
    ['v12.9', 'v13.0.31', 'v13.0.29', 'v2'],
  ),
  // Built from tags v14 and v14.2.
  ...versioned('push-v14', ['v14', 'v14.0'], ['v14.1', 'v14.2', 'v13', 'v15', 'v13.2', 'v0']),
  ...versioned(
    'push-v14.2',
    ['v14.2', 'v14'],
    ['v14.2.1', 'v14.2.3', 'v14.1', 'v14.1.1', 'v14.3.1', 'v13', 'v15', 'v15.1'],
  ),
  // npm packages: right name, version and source pass; anything else fails.
  ...npmPackages.map((p) => npm(p, {}, allowed)),
  ...npmPackages.map((p) => npm(p, { package_name: 'other-package' }, false)),
  ...npmPackages.map((p) => npm(p, { package_version: '0.0.1' }, false)),
  ...npmPackages.map((p) => npm(p, { allowed_sources: ['github.com/other/repository'] }, false)),
  npm(npmPackages[0], { builder_id: GITHUB_HOSTED }, allowed),
  npm(npmPackages[1], { builder_id: GITHUB_HOSTED }, allowed),
  npm(npmPackages[2], { builder_id: GITHUB_HOSTED }, allowed),
  npm(npmPackages[3], { builder_id: GITHUB_HOSTED }, allowed),
  npm(npmPackages[4], { builder_id: NODEJS_BUILDER }, allowed),
  npm(npmPackages[4], { builder_id: GITHUB_HOSTED }, false),
  npm(
    gundam,
    { package_name: 'gundam-visor-x' },
    denied(
      'npm package name gundam-visor (attestation gundam-visor-cli-v1-tag.tgz.json attestations[0]) does not match package_name gundam-visor-x',
      'npm package name gundam-visor (attestation gundam-visor-cli-v1-tag.tgz.json attestations[1]) does not match package_name gundam-visor-x',
    ),
  ),
  {
    example: 'npm-gundam-visor-cli-v1-tag-invalidsigprov',
    params: { package_name: 'gundam-visor', package_version: '1.0.1' },
    expect: denied(
      'attestation gundam-visor-cli-v1-tag-invalidsigprov.tgz.json attestations[1] failed verification: SIGNATURE_INVALID: the DSSE envelope signature does not verify with the signing key',
      'no verified SLSA provenance for sha256:d4b813004e621441bb03d1e97890e610fb4ec0e2bb100fc0b3ed21d3905aaec3: expected an attestation with predicate type https://slsa.dev/provenance/v0.2 or https://slsa.dev/provenance/v1 that verified',
    ),
  },
  {
    example: 'npm-gundam-visor-cli-v1-tag-invalidsigpub',
    params: { package_name: 'gundam-visor', package_version: '1.0.1' },
    expect: denied(
      'attestation gundam-visor-cli-v1-tag-invalidsigpub.tgz.json attestations[0] failed verification: SIGNATURE_INVALID: the DSSE envelope signature does not verify with the signing key',
      'no verified npm publish attestation for sha256:d4b813004e621441bb03d1e97890e610fb4ec0e2bb100fc0b3ed21d3905aaec3: require_npm_publish_attestation expects one with predicate type https://github.com/npm/attestation/tree/main/specs/publish/v0.1, signed by an npm registry key',
    ),
  },
  // gh attestation verify's samples, as --repo / --owner / --signer-workflow would configure
  // them. sigstore-js-2.1.0.tgz is an npm package: gh does not ask for the registry's
  // publish attestation, so neither does a gh-compatible configuration.
  {
    example: 'gh-sigstore-js-2.1.0',
    params: { ...NO_PUBLISH, allowed_sources: ['github.com/sigstore/sigstore-js'] },
    expect: allowed,
  },
  {
    example: 'gh-sigstore-js-2.1.0',
    params: { ...NO_PUBLISH, allowed_sources: ['github.com/sigstore/fakerepo'] },
    expect: false,
  },
  {
    example: 'gh-sigstore-js-2.1.0',
    params: { ...NO_PUBLISH, allowed_signers: ['https://github\\.com/sigstore/.+'] },
    expect: { ...allowed, warn: [NO_SOURCE_WARNING] },
  },
  {
    example: 'gh-sigstore-js-2.1.0',
    params: { ...NO_PUBLISH, allowed_signers: ['https://github\\.com/fakeowner/.+'] },
    expect: false,
  },
  {
    example: 'gh-reusable-workflow',
    params: {
      allowed_signers: [
        'https://github\\.com/github/artifact-attestations-workflows/\\.github/workflows/attest\\.yml@.+',
      ],
    },
    expect: { ...allowed, warn: [NO_SOURCE_WARNING] },
  },
  {
    example: 'gh-reusable-workflow',
    params: {
      allowed_signers: ['https://github\\.com/foo/bar/\\.github/workflows/attest\\.yml@.+'],
    },
    expect: false,
  },
  {
    example: 'gh-sigstore-js-2.1.0',
    params: { allowed_sources: ['github.com/sigstore/sigstore-js'] },
    expect: denied(
      'no verified npm publish attestation for sha256:f0c641fce0310cb43208f4272dc1423153630e44ba8cdc0b5ce8466f724e0eed: require_npm_publish_attestation expects one with predicate type https://github.com/npm/attestation/tree/main/specs/publish/v0.1, signed by an npm registry key',
    ),
  },
  {
    example: 'gh-custom-issuer',
    params: {},
    expect: denied(
      'builder is not trusted: signer https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main is not a trusted builder workflow, and runner https://github.com/actions/runner/github-hosted with issuer https://token.actions.githubusercontent.com/hammer-time is not in trusted_builders',
    ),
  },
  {
    example: 'gh-custom-issuer',
    params: {
      allowed_issuers: ['https://token.actions.githubusercontent.com/hammer-time'],
      extra_trusted_builders: [
        {
          id: GITHUB_HOSTED,
          kind: 'github_runner',
          issuer: 'https://token.actions.githubusercontent.com/hammer-time',
        },
      ],
    },
    expect: { ...allowed, warn: [NO_SOURCE_WARNING] },
  },
];

describe('policies/examples', () => {
  let names: string[];

  before(async () => {
    names = (await readdir(join(POLICIES, 'examples')))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length));
  });

  it('are what the verification core reports for the samples today', async () => {
    await run(process.execPath, [join(ROOT, 'scripts', 'policy-examples.ts'), '--check']);
  });

  it('validate against policies/input.schema.json', async () => {
    const schema = JSON.parse(
      await readFile(join(POLICIES, 'input.schema.json'), 'utf8'),
    ) as object;
    const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
    for (const name of names) {
      const input: unknown = JSON.parse(
        await readFile(join(POLICIES, 'examples', `${name}.json`), 'utf8'),
      );
      assert.ok(validate(input), `${name}: ${JSON.stringify(validate.errors)}`);
    }
  });

  it('each appear in a case below', () => {
    assert.deepEqual(
      names.filter((name) => !CASES.some((c) => c.example === name)),
      [],
    );
  });
});

describe('the default policy on the real samples', () => {
  let opa: string;
  let defaults: Record<string, unknown>;
  let policy: LoadedPolicy;

  before(
    async () => {
      opa = await installOpa();
      const files = await readBundle(await readFile(join(POLICIES, 'bundle.tar.gz')));
      const data = JSON.parse(files.get('data.json')!.toString('utf8')) as {
        provgate: { params: Record<string, unknown> };
      };
      defaults = data.provgate.params;
      policy = await loadPolicy(files.get('policy.wasm')!);
    },
    { timeout: INSTALL_TIMEOUT_MS },
  );

  // provgate merges configured parameters over the bundle's defaults.
  const paramsOf = (c: Case): Record<string, unknown> => ({ ...defaults, ...c.params });

  const inWasm = (c: Case, input: unknown): Decision => {
    policy.setData({ provgate: { params: paramsOf(c) } });
    const results = policy.evaluate(input, 'provgate/decision') as { result: Decision }[];
    assert.equal(results.length, 1);
    return results[0]!.result;
  };

  // One `opa eval` per example evaluates all of its cases: d0 := ... with params P0; d1 := ...
  const regoRuns = new Map<string, Promise<Decision[]>>();
  const inRego = async (c: Case): Promise<Decision> => {
    const cases = CASES.filter((other) => other.example === c.example);
    let decisions = regoRuns.get(c.example);
    if (decisions === undefined) {
      const query = cases
        .map(
          (other, i) =>
            `d${i} := data.provgate.decision with data.provgate.params as ${JSON.stringify(paramsOf(other))}`,
        )
        .join('; ');
      decisions = run(opa, [
        'eval',
        '--format=json',
        '--data',
        join(POLICIES, 'src'),
        '--input',
        join(POLICIES, 'examples', `${c.example}.json`),
        query,
      ]).then((out) => {
        const parsed = JSON.parse(out) as { result: { bindings: Record<string, Decision> }[] };
        const bindings = parsed.result[0]!.bindings;
        return cases.map((_, i) => bindings[`d${i}`]!);
      });
      regoRuns.set(c.example, decisions);
    }
    return (await decisions)[cases.indexOf(c)]!;
  };

  for (const c of CASES) {
    const allows = typeof c.expect === 'boolean' ? c.expect : c.expect.allow;
    describe(`when ${c.example} is checked with ${JSON.stringify(c.params)}`, () => {
      it(`${allows ? 'allows' : 'denies'}, the same in Rego and in Wasm`, async () => {
        const input: unknown = JSON.parse(
          await readFile(join(POLICIES, 'examples', `${c.example}.json`), 'utf8'),
        );
        const wasm = inWasm(c, input);
        const rego = await inRego(c);
        assert.deepEqual(wasm, rego, 'Wasm and Rego disagree');
        if (typeof c.expect === 'boolean') {
          assert.equal(rego.allow, c.expect, JSON.stringify(rego));
          assert.equal(rego.deny.length === 0, c.expect);
        } else {
          assert.deepEqual(rego, c.expect);
        }
      });
    });
  }
});
