import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { parseCertificate } from '../../src/verify/x509.ts';

import { extractClaims } from '../../src/verify/identity.ts';
import { parseStatement } from '../../src/verify/intoto.ts';
import { splitJsonLines } from '../../src/verify/json.ts';
import {
  normalizeProvenance,
  normalizeRepositoryUri,
  parseSourceUri,
  reconcileWithCertificate,
} from '../../src/verify/slsa.ts';
import type {
  FulcioClaims,
  InTotoStatement,
  NormalizedProvenance,
} from '../../src/verify/verify.types.ts';
import { assertCode } from './support/fixtures.ts';

// Real public bundles, see test/fixtures/SOURCES.md.
const FIXTURES = new URL('../fixtures/', import.meta.url);

interface Bundle {
  dsseEnvelope: { payload: string };
  verificationMaterial: {
    certificate?: { rawBytes: string };
    x509CertificateChain?: { certificates: { rawBytes: string }[] };
  };
}

interface Sample {
  statement: InTotoStatement;
  claims: FulcioClaims;
}

// The SLSA provenance bundle of a fixture (.jsonl, npm .tgz.json or a single
// bundle): its statement and its certificate's claims.
function provenanceSample(path: string, line = 0): Sample {
  const text = readFileSync(new URL(path, FIXTURES), 'utf8');
  let bundle: Bundle;
  if (path.endsWith('.jsonl')) {
    bundle = JSON.parse(splitJsonLines(text)[line]!.text) as Bundle;
  } else if (path.endsWith('.tgz.json')) {
    const { attestations } = JSON.parse(text) as {
      attestations: { predicateType: string; bundle: Bundle }[];
    };
    bundle = attestations.find((a) => a.predicateType.startsWith('https://slsa.dev/'))!.bundle;
  } else {
    bundle = JSON.parse(text) as Bundle;
  }
  const material = bundle.verificationMaterial;
  const raw =
    material.certificate?.rawBytes ?? material.x509CertificateChain!.certificates[0]!.rawBytes;
  return {
    statement: parseStatement(Buffer.from(bundle.dsseEnvelope.payload, 'base64')),
    claims: extractClaims(parseCertificate(Buffer.from(raw, 'base64'))),
  };
}

const GENERATOR = 'slsa-github-generator/generic-v2.1.0/';
const GENERIC_BUILDER =
  'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0';
const EXAMPLE_PACKAGE = 'https://github.com/slsa-framework/example-package';
const EXAMPLE_COMMIT = '4d329c75e7ec1725f7c9ce917a8799d408d06be3';
const EXAMPLE_WORKFLOW = '.github/workflows/verifier-e2e.all.workflow_dispatch.main.all.slsa3.yml';
const RUNNER = 'https://github.com/actions/runner/github-hosted';
const GITHUB_WORKFLOW_V1 = 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1';

const SAMPLES = {
  genericTag: provenanceSample(`${GENERATOR}binary-linux-amd64-push-v13.0.30.intoto.jsonl`),
  genericV14: provenanceSample(`${GENERATOR}binary-linux-amd64-push-v14.intoto.jsonl`),
  genericV142: provenanceSample(`${GENERATOR}binary-linux-amd64-push-v14.2.intoto.jsonl`),
  genericBranch: provenanceSample(`${GENERATOR}binary-linux-amd64-workflow_dispatch.intoto.jsonl`),
  sigstoreJs: provenanceSample('gh-attestation/sigstore-js-2.1.0-bundle.json'),
  sigstoreJsSecond: provenanceSample('gh-attestation/sigstore-js-2.1.0_with_2_bundles.jsonl', 1),
  reusableWorkflow: provenanceSample('gh-attestation/reusable-workflow-attestation.sigstore.json'),
  customIssuer: provenanceSample('gh-attestation/custom-issuer.sigstore.json'),
  npmV02: provenanceSample('npm-attestations/supreme-googles-cli-v02-tag.tgz.json'),
  npmV02Branch: provenanceSample('npm-attestations/provenance-npm-test-cli-v02-prega.tgz.json'),
  npmV1: provenanceSample('npm-attestations/gundam-visor-cli-v1-tag.tgz.json'),
  npmV1Sigstore: provenanceSample('npm-attestations/provenance-npm-test-cli-v1-prega.tgz.json'),
  nodejsBuilder: provenanceSample('npm-attestations/provenance-npm-test-ossf.tgz.json'),
};

function normalize(sample: Sample): NormalizedProvenance {
  const provenance = normalizeProvenance(sample.statement);
  assert.ok(provenance);
  return provenance;
}

type Predicate = Record<string, unknown>;

// A copy of a real statement with its predicate edited (the fixtures are never edited).
function withPredicate(sample: Sample, edit: (predicate: Predicate) => void): InTotoStatement {
  const predicate = structuredClone(sample.statement.predicate) as Predicate;
  edit(predicate);
  return { ...sample.statement, predicate };
}

// The object holding the last key of `path` inside `predicate`.
function parentOf(
  predicate: Predicate,
  path: (string | number)[],
): Record<string | number, unknown> {
  let node = predicate as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  return node;
}

function set(predicate: Predicate, path: (string | number)[], value: unknown): void {
  parentOf(predicate, path)[path.at(-1)!] = value;
}

function unset(predicate: Predicate, path: (string | number)[]): void {
  delete parentOf(predicate, path)[path.at(-1)!];
}

describe('slsa', () => {
  describe('#normalizeProvenance', () => {
    describe('when the statement is slsa-github-generator v0.2 provenance built from a tag', () => {
      it('returns the builder, source, commit and workflow', () => {
        assert.deepEqual(normalize(SAMPLES.genericTag), {
          slsaVersion: '0.2',
          builderId: GENERIC_BUILDER,
          buildType: 'https://github.com/slsa-framework/slsa-github-generator/generic@v1',
          sourceRepositoryUri: EXAMPLE_PACKAGE,
          sourceRef: 'refs/tags/v13.0.30',
          sourceCommit: EXAMPLE_COMMIT,
          workflowPath: EXAMPLE_WORKFLOW,
          resolvedDependencies: [
            {
              uri: 'git+https://github.com/slsa-framework/example-package@refs/tags/v13.0.30',
              digest: { sha1: EXAMPLE_COMMIT },
            },
          ],
          invocationId: '13530999948-1',
        });
      });

      it('reads the ref of each tag sample', () => {
        assert.equal(normalize(SAMPLES.genericV14).sourceRef, 'refs/tags/v14');
        assert.equal(normalize(SAMPLES.genericV142).sourceRef, 'refs/tags/v14.2');
      });
    });

    describe('when the statement is slsa-github-generator v0.2 provenance from workflow_dispatch', () => {
      it('returns branch main and no inputs (the event had none)', () => {
        const provenance = normalize(SAMPLES.genericBranch);
        assert.equal(provenance.sourceRef, 'refs/heads/main');
        assert.equal(provenance.sourceRepositoryUri, EXAMPLE_PACKAGE);
        assert.equal(provenance.sourceCommit, EXAMPLE_COMMIT);
        assert.equal(provenance.invocationId, '13531731005-1');
        assert.equal(provenance.workflowInputs, undefined);
      });
    });

    describe('when the statement is GitHub SLSA v1 provenance (sigstore-js 2.1.0)', () => {
      it('returns the builder, source, commit, workflow and invocation', () => {
        assert.deepEqual(normalize(SAMPLES.sigstoreJs), {
          slsaVersion: '1',
          builderId: RUNNER,
          buildType: GITHUB_WORKFLOW_V1,
          sourceRepositoryUri: 'https://github.com/sigstore/sigstore-js',
          sourceRef: 'refs/heads/main',
          sourceCommit: '26d16513386ffaa790b1c32f927544f1322e4194',
          workflowPath: '.github/workflows/release.yml',
          resolvedDependencies: [
            {
              uri: 'git+https://github.com/sigstore/sigstore-js@refs/heads/main',
              digest: { gitCommit: '26d16513386ffaa790b1c32f927544f1322e4194' },
            },
          ],
          invocationId:
            'https://github.com/sigstore/sigstore-js/actions/runs/6014488666/attempts/1',
        });
        assert.deepEqual(normalize(SAMPLES.sigstoreJsSecond), normalize(SAMPLES.sigstoreJs));
      });
    });

    describe('when the statement is GitHub SLSA v1 provenance from a reusable workflow', () => {
      it('returns the calling repository and its top-level workflow', () => {
        const provenance = normalize(SAMPLES.reusableWorkflow);
        assert.equal(provenance.sourceRepositoryUri, 'https://github.com/malancas/attest-demo');
        assert.equal(provenance.sourceCommit, '95baf27389e83e6a5c48f42e190d48d7abcea19e');
        assert.equal(provenance.workflowPath, '.github/workflows/shared.yml');
        assert.equal(provenance.builderId, RUNNER);
      });
    });

    describe('when the statement uses the actions.github.io build type (custom issuer sample)', () => {
      it('returns the workflow as builder', () => {
        const provenance = normalize(SAMPLES.customIssuer);
        assert.equal(provenance.buildType, 'https://actions.github.io/buildtypes/workflow/v1');
        assert.equal(
          provenance.builderId,
          'https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main',
        );
        assert.equal(provenance.sourceRepositoryUri, 'https://github.com/too-legit/attest');
        assert.equal(provenance.sourceCommit, '283bf967fa3c591925dd25e6a6e8e781542117bf');
      });
    });

    describe('when the statement is npm CLI v0.2 provenance', () => {
      it('returns the bare runner builder id and the tag', () => {
        assert.deepEqual(normalize(SAMPLES.npmV02), {
          slsaVersion: '0.2',
          builderId: 'https://github.com/actions/runner',
          buildType: 'https://github.com/npm/cli/gha/v2',
          sourceRepositoryUri: 'https://github.com/trishankatdatadog/supreme-goggles',
          sourceRef: 'refs/tags/v1.0.5',
          sourceCommit: '38ebf99444e033b2f1550c9aaaeacd62d02a12ba',
          workflowPath: '.github/workflows/npm-publish.yml',
          resolvedDependencies: [
            {
              uri: 'git+https://github.com/trishankatdatadog/supreme-goggles@refs/tags/v1.0.5',
              digest: { sha1: '38ebf99444e033b2f1550c9aaaeacd62d02a12ba' },
            },
          ],
          invocationId: '4994975790-1',
        });
        const branch = normalize(SAMPLES.npmV02Branch);
        assert.equal(
          branch.sourceRepositoryUri,
          'https://github.com/laurentsimon/provenance-npm-test',
        );
        assert.equal(branch.sourceRef, 'refs/heads/main');
        assert.equal(branch.sourceCommit, 'b38894f2dda4355ea5606fccb166e61565e12a14');
      });
    });

    describe('when the statement is npm CLI v1 provenance', () => {
      it('returns the hosted runner builder id and the tag', () => {
        const provenance = normalize(SAMPLES.npmV1);
        assert.equal(provenance.slsaVersion, '1');
        assert.equal(provenance.builderId, RUNNER);
        assert.equal(
          provenance.sourceRepositoryUri,
          'https://github.com/ramonpetgrave64/gundam-visor',
        );
        assert.equal(provenance.sourceRef, 'refs/tags/v1.0.1');
        assert.equal(provenance.sourceCommit, '599500821344b070902a7a5666064bfdaba715df');
        assert.equal(provenance.workflowPath, '.github/workflows/npm-publish.yml');
        assert.equal(
          normalize(SAMPLES.npmV1Sigstore).sourceCommit,
          '46e7056ff9912ebfee5298d94024895a9fea76c0',
        );
      });
    });

    describe('when the statement is from the slsa-github-generator Node.js builder (BYOB)', () => {
      it('returns the builder workflow as builder id', () => {
        const provenance = normalize(SAMPLES.nodejsBuilder);
        assert.equal(
          provenance.builderId,
          'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml@refs/tags/v1.6.0',
        );
        assert.equal(
          provenance.buildType,
          'https://github.com/slsa-framework/slsa-github-generator/delegator-generic@v0',
        );
        assert.equal(
          provenance.sourceRepositoryUri,
          'https://github.com/laurentsimon/provenance-npm-test',
        );
        assert.equal(provenance.sourceRef, 'refs/heads/main');
        assert.equal(provenance.sourceCommit, '34490b44db557f009617bcb92b8780f972c189ab');
        assert.equal(provenance.workflowPath, '.github/workflows/release-slsa3.yml');
        assert.equal(provenance.invocationId, '5016782196-1');
        // parameters.inputs are the builder's `with:` inputs, not workflow_dispatch inputs.
        assert.equal(provenance.workflowInputs, undefined);
      });
    });

    describe('when the predicate type is not SLSA provenance', () => {
      it('returns undefined', () => {
        const publish = parseStatement(
          Buffer.from(
            (
              JSON.parse(
                readFileSync(
                  new URL('npm-attestations/gundam-visor-cli-v1-tag.tgz.json', FIXTURES),
                  'utf8',
                ),
              ) as { attestations: { bundle: Bundle }[] }
            ).attestations[0]!.bundle.dsseEnvelope.payload,
            'base64',
          ),
        );
        assert.equal(normalizeProvenance(publish), undefined);
        assert.equal(
          normalizeProvenance({ ...publish, predicateType: 'https://slsa.dev/provenance/v0.1' }),
          undefined,
        );
      });
    });

    describe('when workflow inputs are recorded', () => {
      it('reads v0.2 inputs from the event payload', () => {
        const statement = withPredicate(SAMPLES.genericBranch, (p) => {
          set(p, ['invocation', 'environment', 'github_event_payload', 'inputs'], {
            release: 'true',
            level: 3,
          });
        });
        assert.deepEqual(normalizeProvenance(statement)!.workflowInputs, {
          release: 'true',
          level: 3,
        });
      });

      it('reads v0.2 inputs from an upper-cased event payload', () => {
        const statement = withPredicate(SAMPLES.nodejsBuilder, (p) => {
          set(p, ['invocation', 'environment', 'GITHUB_EVENT_PAYLOAD'], { inputs: { dry: 'no' } });
        });
        assert.deepEqual(normalizeProvenance(statement)!.workflowInputs, { dry: 'no' });
      });

      it('reads v0.2 inputs from parameters.event_inputs', () => {
        const statement = withPredicate(SAMPLES.npmV02, (p) => {
          set(p, ['invocation', 'parameters'], { event_inputs: { tag: 'v1' } });
        });
        assert.deepEqual(normalizeProvenance(statement)!.workflowInputs, { tag: 'v1' });
      });

      it('reads v1 inputs from externalParameters.inputs', () => {
        const statement = withPredicate(SAMPLES.sigstoreJs, (p) => {
          set(p, ['buildDefinition', 'externalParameters', 'inputs'], { publish: true });
        });
        assert.deepEqual(normalizeProvenance(statement)!.workflowInputs, { publish: true });
      });
    });

    describe('when v0.2 metadata has timestamps and the spec spelling of buildInvocationId', () => {
      it('returns them', () => {
        const statement = withPredicate(SAMPLES.genericTag, (p) => {
          set(p, ['metadata'], {
            buildInvocationId: 'spec-spelling',
            buildStartedOn: '2025-02-25T21:06:15Z',
            buildFinishedOn: '2025-02-25T21:08:01.5+01:00',
          });
        });
        const provenance = normalizeProvenance(statement)!;
        assert.equal(provenance.invocationId, 'spec-spelling');
        assert.equal(provenance.startedOn, '2025-02-25T21:06:15Z');
        assert.equal(provenance.finishedOn, '2025-02-25T21:08:01.5+01:00');
      });
    });

    describe('when v1 run metadata has timestamps', () => {
      it('returns them', () => {
        const statement = withPredicate(SAMPLES.sigstoreJs, (p) => {
          set(p, ['runDetails', 'metadata', 'startedOn'], '2023-08-29T15:40:00Z');
          set(p, ['runDetails', 'metadata', 'finishedOn'], '2023-08-29T15:45:00Z');
        });
        const provenance = normalizeProvenance(statement)!;
        assert.equal(provenance.startedOn, '2023-08-29T15:40:00Z');
        assert.equal(provenance.finishedOn, '2023-08-29T15:45:00Z');
      });
    });

    describe('when a v0.2 predicate has no configSource', () => {
      it('takes the source from the first material', () => {
        const statement = withPredicate(SAMPLES.genericTag, (p) => {
          unset(p, ['invocation', 'configSource']);
        });
        const provenance = normalizeProvenance(statement)!;
        assert.equal(provenance.sourceRepositoryUri, EXAMPLE_PACKAGE);
        assert.equal(provenance.sourceRef, 'refs/tags/v13.0.30');
        assert.equal(provenance.sourceCommit, EXAMPLE_COMMIT);
        assert.equal(provenance.workflowPath, undefined);
      });
    });

    describe('when a v1 predicate has other resolved dependencies first', () => {
      it('takes the commit from the dependency of the workflow repository', () => {
        const statement = withPredicate(SAMPLES.sigstoreJs, (p) => {
          set(
            p,
            ['buildDefinition', 'resolvedDependencies'],
            [
              {
                uri: 'git+https://github.com/actions/runner-images@refs/tags/v1',
                digest: { gitCommit: 'f'.repeat(40) },
              },
              ...(
                SAMPLES.sigstoreJs.statement.predicate as {
                  buildDefinition: { resolvedDependencies: unknown[] };
                }
              ).buildDefinition.resolvedDependencies,
            ],
          );
        });
        assert.equal(
          normalizeProvenance(statement)!.sourceCommit,
          '26d16513386ffaa790b1c32f927544f1322e4194',
        );
      });
    });

    describe('when a v1 predicate has no externalParameters.workflow', () => {
      it('takes the source from the git dependency', () => {
        const statement = withPredicate(SAMPLES.sigstoreJs, (p) => {
          set(p, ['buildDefinition', 'externalParameters'], {});
        });
        const provenance = normalizeProvenance(statement)!;
        assert.equal(provenance.sourceRepositoryUri, 'https://github.com/sigstore/sigstore-js');
        assert.equal(provenance.sourceRef, 'refs/heads/main');
        assert.equal(provenance.sourceCommit, '26d16513386ffaa790b1c32f927544f1322e4194');
      });
    });

    describe('when the commit digest is upper-case', () => {
      it('returns it lower-cased', () => {
        const statement = withPredicate(SAMPLES.genericTag, (p) => {
          set(p, ['invocation', 'configSource', 'digest', 'sha1'], EXAMPLE_COMMIT.toUpperCase());
        });
        assert.equal(normalizeProvenance(statement)!.sourceCommit, EXAMPLE_COMMIT);
      });
    });

    describe('when the predicate has the wrong shape', () => {
      const v02 = (edit: (p: Predicate) => void) => withPredicate(SAMPLES.genericTag, edit);
      const v1 = (edit: (p: Predicate) => void) => withPredicate(SAMPLES.sigstoreJs, edit);
      const cases: [string, InTotoStatement][] = [
        ['a missing v0.2 predicate', { ...SAMPLES.genericTag.statement, predicate: undefined }],
        ['a missing v1 predicate', { ...SAMPLES.sigstoreJs.statement, predicate: undefined }],
        ['a v0.2 predicate array', { ...SAMPLES.genericTag.statement, predicate: [] }],
        [
          'a v1 predicate in v0.2 shape',
          { ...SAMPLES.genericTag.statement, predicateType: 'https://slsa.dev/provenance/v1' },
        ],
        [
          'a v0.2 predicate in v1 shape',
          { ...SAMPLES.sigstoreJs.statement, predicateType: 'https://slsa.dev/provenance/v0.2' },
        ],
        ['no builder', v02((p) => unset(p, ['builder']))],
        ['a builder string', v02((p) => set(p, ['builder'], 'x'))],
        ['a numeric builder.id', v02((p) => set(p, ['builder', 'id'], 1))],
        ['an empty builder.id', v02((p) => set(p, ['builder', 'id'], ''))],
        ['no buildType', v02((p) => unset(p, ['buildType']))],
        ['an invocation array', v02((p) => set(p, ['invocation'], []))],
        [
          'a configSource string',
          v02((p) => set(p, ['invocation', 'configSource'], 'git+https://x')),
        ],
        [
          'a numeric configSource.uri',
          v02((p) => set(p, ['invocation', 'configSource', 'uri'], 5)),
        ],
        [
          'a configSource.digest array',
          v02((p) => set(p, ['invocation', 'configSource', 'digest'], [])),
        ],
        [
          'a numeric configSource.digest.sha1',
          v02((p) => set(p, ['invocation', 'configSource', 'digest', 'sha1'], 5)),
        ],
        [
          'a non-hex configSource.digest.sha1',
          v02((p) => set(p, ['invocation', 'configSource', 'digest', 'sha1'], 'main')),
        ],
        [
          'a short configSource.digest.sha1',
          v02((p) => set(p, ['invocation', 'configSource', 'digest', 'sha1'], 'abc123')),
        ],
        [
          'an entryPoint object',
          v02((p) => set(p, ['invocation', 'configSource', 'entryPoint'], {})),
        ],
        ['an environment string', v02((p) => set(p, ['invocation', 'environment'], 'x'))],
        [
          'an event payload string',
          v02((p) => set(p, ['invocation', 'environment', 'github_event_payload'], 'x')),
        ],
        [
          'event payload inputs array',
          v02((p) => set(p, ['invocation', 'environment', 'github_event_payload', 'inputs'], [])),
        ],
        ['parameters array', v02((p) => set(p, ['invocation', 'parameters'], [1]))],
        ['materials object', v02((p) => set(p, ['materials'], {}))],
        ['a material string', v02((p) => set(p, ['materials'], ['git+https://x']))],
        ['a numeric material uri', v02((p) => set(p, ['materials', 0, 'uri'], 1))],
        ['a numeric material digest', v02((p) => set(p, ['materials', 0, 'digest', 'sha1'], 1))],
        ['a metadata array', v02((p) => set(p, ['metadata'], []))],
        ['a numeric buildInvocationID', v02((p) => set(p, ['metadata', 'buildInvocationID'], 1))],
        [
          'a buildStartedOn that is not RFC 3339',
          v02((p) => set(p, ['metadata', 'buildStartedOn'], 'yesterday')),
        ],
        [
          'a buildFinishedOn without zone',
          v02((p) => set(p, ['metadata', 'buildFinishedOn'], '2025-02-25T21:06:15')),
        ],
        [
          'an impossible buildStartedOn',
          v02((p) => set(p, ['metadata', 'buildStartedOn'], '2025-13-45T25:61:61Z')),
        ],
        ['no buildDefinition', v1((p) => unset(p, ['buildDefinition']))],
        ['no v1 buildType', v1((p) => unset(p, ['buildDefinition', 'buildType']))],
        ['no externalParameters', v1((p) => unset(p, ['buildDefinition', 'externalParameters']))],
        [
          'a workflow string',
          v1((p) => set(p, ['buildDefinition', 'externalParameters', 'workflow'], 'x')),
        ],
        [
          'a numeric workflow.repository',
          v1((p) => set(p, ['buildDefinition', 'externalParameters', 'workflow', 'repository'], 1)),
        ],
        [
          'a numeric workflow.ref',
          v1((p) => set(p, ['buildDefinition', 'externalParameters', 'workflow', 'ref'], 1)),
        ],
        [
          'a workflow.path array',
          v1((p) => set(p, ['buildDefinition', 'externalParameters', 'workflow', 'path'], [])),
        ],
        [
          'inputs string',
          v1((p) => set(p, ['buildDefinition', 'externalParameters', 'inputs'], 'x')),
        ],
        [
          'resolvedDependencies object',
          v1((p) => set(p, ['buildDefinition', 'resolvedDependencies'], {})),
        ],
        [
          'a dependency number',
          v1((p) => set(p, ['buildDefinition', 'resolvedDependencies'], [1])),
        ],
        [
          'a dependency name number',
          v1((p) => set(p, ['buildDefinition', 'resolvedDependencies', 0, 'name'], 1)),
        ],
        [
          'a non-hex gitCommit',
          v1((p) =>
            set(p, ['buildDefinition', 'resolvedDependencies', 0, 'digest', 'gitCommit'], 'HEAD'),
          ),
        ],
        ['no runDetails', v1((p) => unset(p, ['runDetails']))],
        ['no runDetails.builder', v1((p) => unset(p, ['runDetails', 'builder']))],
        ['no runDetails.builder.id', v1((p) => unset(p, ['runDetails', 'builder', 'id']))],
        [
          'a numeric invocationId',
          v1((p) => set(p, ['runDetails', 'metadata', 'invocationId'], 1)),
        ],
        ['a startedOn number', v1((p) => set(p, ['runDetails', 'metadata', 'startedOn'], 0))],
      ];
      for (const [what, statement] of cases) {
        it(`throws PROVENANCE_INVALID for ${what}`, () => {
          assertCode(() => normalizeProvenance(statement), 'PROVENANCE_INVALID');
        });
      }
    });

    describe('when optional fields are null (as Go writes nil)', () => {
      it('treats them as absent', () => {
        const statement = withPredicate(SAMPLES.genericTag, (p) => {
          set(p, ['materials'], null);
          set(p, ['metadata'], null);
          set(p, ['invocation', 'parameters'], null);
        });
        const provenance = normalizeProvenance(statement)!;
        assert.deepEqual(provenance.resolvedDependencies, []);
        assert.equal(provenance.invocationId, undefined);
      });
    });
  });

  describe('#parseSourceUri', () => {
    for (const [uri, expected] of [
      [
        'git+https://github.com/slsa-framework/example-package@refs/tags/v13.0.30',
        { repository: EXAMPLE_PACKAGE, ref: 'refs/tags/v13.0.30' },
      ],
      [
        'git+https://github.com/o/r.git@refs/heads/feature@2',
        { repository: 'https://github.com/o/r', ref: 'refs/heads/feature@2' },
      ],
      [
        'git+https://user@example.com/o/r@main',
        { repository: 'https://user@example.com/o/r', ref: 'main' },
      ],
      ['https://github.com/o/r', { repository: 'https://github.com/o/r' }],
      ['git+https://github.com/o/r@', { repository: 'https://github.com/o/r' }],
    ] as const) {
      it(`splits ${uri}`, () => {
        assert.deepEqual(parseSourceUri(uri), expected);
      });
    }
  });

  describe('#normalizeRepositoryUri', () => {
    for (const [uri, expected] of [
      ['git+https://github.com/o/r@refs/heads/main', 'https://github.com/o/r'],
      ['https://GitHub.com/o/r.git', 'https://github.com/o/r'],
      ['HTTPS://github.com/o/r/', 'https://github.com/o/r'],
      ['https://github.com/o/r', 'https://github.com/o/r'],
      ['github.com/o/r', 'github.com/o/r'],
    ] as const) {
      it(`normalizes ${uri}`, () => {
        assert.equal(normalizeRepositoryUri(uri), expected);
      });
    }
  });

  describe('#reconcileWithCertificate', () => {
    describe('when the predicate and the certificate of a real sample agree', () => {
      for (const [name, sample] of Object.entries(SAMPLES)) {
        it(`records no disagreement for ${name}`, () => {
          const { disagreements } = reconcileWithCertificate(normalize(sample), sample.claims);
          assert.deepEqual(disagreements, []);
        });
      }

      it('keeps the facts and takes the invocation URI from the certificate', () => {
        const { provenance } = reconcileWithCertificate(
          normalize(SAMPLES.genericTag),
          SAMPLES.genericTag.claims,
        );
        assert.deepEqual(provenance, {
          ...normalize(SAMPLES.genericTag),
          invocationId:
            'https://github.com/slsa-framework/example-package/actions/runs/13530999948/attempts/1',
        });
      });

      it('does not change the input', () => {
        const input = normalize(SAMPLES.genericTag);
        const copy = structuredClone(input);
        reconcileWithCertificate(input, {
          ...SAMPLES.genericTag.claims,
          sourceRepositoryUri: 'https://github.com/evil/repo',
        });
        assert.deepEqual(input, copy);
      });
    });

    describe('when the predicate claims another source repository', () => {
      it('records it and takes the certificate value', () => {
        const statement = withPredicate(SAMPLES.genericTag, (p) => {
          set(
            p,
            ['invocation', 'configSource', 'uri'],
            'git+https://github.com/evil/example-package@refs/tags/v13.0.30',
          );
        });
        const { provenance, disagreements } = reconcileWithCertificate(
          normalizeProvenance(statement)!,
          SAMPLES.genericTag.claims,
        );
        assert.equal(provenance.sourceRepositoryUri, EXAMPLE_PACKAGE);
        assert.deepEqual(disagreements, [
          {
            field: 'sourceRepositoryUri',
            certificate: EXAMPLE_PACKAGE,
            predicate: 'https://github.com/evil/example-package',
          },
        ]);
      });
    });

    describe('when the predicate claims another ref and commit', () => {
      it('records both and takes the certificate values', () => {
        const statement = withPredicate(SAMPLES.sigstoreJs, (p) => {
          set(p, ['buildDefinition', 'externalParameters', 'workflow', 'ref'], 'refs/tags/v2.1.0');
          set(
            p,
            ['buildDefinition', 'resolvedDependencies', 0, 'digest', 'gitCommit'],
            'a'.repeat(40),
          );
        });
        const { provenance, disagreements } = reconcileWithCertificate(
          normalizeProvenance(statement)!,
          SAMPLES.sigstoreJs.claims,
        );
        assert.equal(provenance.sourceRef, 'refs/heads/main');
        assert.equal(provenance.sourceCommit, '26d16513386ffaa790b1c32f927544f1322e4194');
        assert.deepEqual(
          disagreements.map((d) => d.field),
          ['sourceRef', 'sourceCommit'],
        );
      });
    });

    describe('when the predicate differs only in format', () => {
      it('records nothing', () => {
        const statement = withPredicate(SAMPLES.sigstoreJs, (p) => {
          set(
            p,
            ['buildDefinition', 'externalParameters', 'workflow', 'repository'],
            'https://GitHub.com/Sigstore/sigstore-js.git',
          );
          set(
            p,
            ['buildDefinition', 'externalParameters', 'workflow', 'path'],
            './.github/workflows/release.yml',
          );
          set(
            p,
            ['buildDefinition', 'resolvedDependencies', 0, 'uri'],
            'git+https://github.com/Sigstore/sigstore-js.git@refs/heads/main',
          );
        });
        const provenance = normalizeProvenance(statement)!;
        const claims = {
          ...SAMPLES.sigstoreJs.claims,
          sourceRepositoryDigest: 'sha1:26D16513386FFAA790B1C32F927544F1322E4194',
        };
        const result = reconcileWithCertificate(provenance, claims);
        assert.deepEqual(result.disagreements, []);
        assert.equal(
          result.provenance.sourceRepositoryUri,
          'https://github.com/sigstore/sigstore-js',
        );
        assert.equal(result.provenance.workflowPath, '.github/workflows/release.yml');
        assert.equal(result.provenance.sourceCommit, '26d16513386ffaa790b1c32f927544f1322e4194');
      });
    });

    describe('when the predicate claims another workflow', () => {
      it('records it against the path in the build config URI', () => {
        const statement = withPredicate(SAMPLES.genericTag, (p) => {
          set(p, ['invocation', 'configSource', 'entryPoint'], '.github/workflows/other.yml');
        });
        const { provenance, disagreements } = reconcileWithCertificate(
          normalizeProvenance(statement)!,
          SAMPLES.genericTag.claims,
        );
        assert.equal(provenance.workflowPath, EXAMPLE_WORKFLOW);
        assert.deepEqual(disagreements, [
          {
            field: 'workflowPath',
            certificate: EXAMPLE_WORKFLOW,
            predicate: '.github/workflows/other.yml',
          },
        ]);
      });
    });

    describe('when the predicate claims another run', () => {
      it('records it', () => {
        const statement = withPredicate(SAMPLES.genericTag, (p) => {
          set(p, ['metadata', 'buildInvocationID'], '13530999948-2');
        });
        const { disagreements } = reconcileWithCertificate(
          normalizeProvenance(statement)!,
          SAMPLES.genericTag.claims,
        );
        assert.deepEqual(
          disagreements.map((d) => d.field),
          ['invocationId'],
        );
      });
    });

    describe('when a workflow signed but the predicate names another builder workflow', () => {
      it('records it and takes the build signer URI', () => {
        const forged = withPredicate(SAMPLES.customIssuer, (p) => {
          set(p, ['runDetails', 'builder', 'id'], GENERIC_BUILDER);
        });
        const { provenance, disagreements } = reconcileWithCertificate(
          normalizeProvenance(forged)!,
          SAMPLES.customIssuer.claims,
        );
        const signer =
          'https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main';
        assert.equal(provenance.builderId, signer);
        assert.deepEqual(disagreements, [
          { field: 'builderId', certificate: signer, predicate: GENERIC_BUILDER },
        ]);
      });
    });

    describe('when the generator builder id names another version than the signer', () => {
      it('records it', () => {
        const statement = withPredicate(SAMPLES.genericTag, (p) => {
          set(p, ['builder', 'id'], GENERIC_BUILDER.replace('v2.1.0', 'v2.0.0'));
        });
        const { provenance, disagreements } = reconcileWithCertificate(
          normalizeProvenance(statement)!,
          SAMPLES.genericTag.claims,
        );
        assert.equal(provenance.builderId, GENERIC_BUILDER);
        assert.deepEqual(
          disagreements.map((d) => d.field),
          ['builderId'],
        );
      });
    });

    describe('when the build signer URI carries no ref', () => {
      it('accepts the same workflow with a ref as a difference of format', () => {
        const claims = {
          ...SAMPLES.genericTag.claims,
          buildSignerUri: GENERIC_BUILDER.split('@')[0],
        };
        const { provenance, disagreements } = reconcileWithCertificate(
          normalize(SAMPLES.genericTag),
          claims,
        );
        assert.deepEqual(disagreements, []);
        assert.equal(provenance.builderId, GENERIC_BUILDER);
      });
    });

    describe('when a BYOB delegator signed for the builder it names', () => {
      it('keeps the builder id', () => {
        const { provenance, disagreements } = reconcileWithCertificate(
          normalize(SAMPLES.nodejsBuilder),
          SAMPLES.nodejsBuilder.claims,
        );
        assert.deepEqual(disagreements, []);
        assert.match(provenance.builderId!, /builder_nodejs_slsa3\.yml@refs\/tags\/v1\.6\.0$/);
      });
    });

    describe('when the hosted-runner builder id disagrees with the runner environment', () => {
      it('records it and takes the certificate runner', () => {
        const claims = { ...SAMPLES.npmV1.claims, runnerEnvironment: 'self-hosted' };
        const { provenance, disagreements } = reconcileWithCertificate(
          normalize(SAMPLES.npmV1),
          claims,
        );
        assert.equal(provenance.builderId, 'https://github.com/actions/runner/self-hosted');
        assert.deepEqual(disagreements, [
          {
            field: 'builderId',
            certificate: 'https://github.com/actions/runner/self-hosted',
            predicate: RUNNER,
          },
        ]);
      });
    });

    describe('when the builder id is the bare v0.2 runner', () => {
      it('has nothing to compare it with', () => {
        const claims = { ...SAMPLES.npmV02.claims, runnerEnvironment: 'self-hosted' };
        const { provenance, disagreements } = reconcileWithCertificate(
          normalize(SAMPLES.npmV02),
          claims,
        );
        assert.deepEqual(disagreements, []);
        assert.equal(provenance.builderId, 'https://github.com/actions/runner');
      });
    });

    describe('when the certificate carries only the deprecated GitHub extensions', () => {
      it('compares with those', () => {
        const claims: FulcioClaims = {
          issuer: 'https://token.actions.githubusercontent.com',
          githubWorkflowRepository: 'slsa-framework/example-package',
          githubWorkflowRef: 'refs/tags/v13.0.29',
          githubWorkflowSha: EXAMPLE_COMMIT,
        };
        const { provenance, disagreements } = reconcileWithCertificate(
          normalize(SAMPLES.genericTag),
          claims,
        );
        assert.equal(provenance.sourceRef, 'refs/tags/v13.0.29');
        assert.deepEqual(disagreements, [
          {
            field: 'sourceRef',
            certificate: 'refs/tags/v13.0.29',
            predicate: 'refs/tags/v13.0.30',
          },
        ]);
      });

      it('ignores them for another issuer', () => {
        const claims: FulcioClaims = {
          issuer: 'https://gitlab.com',
          githubWorkflowRepository: 'evil/repo',
          githubWorkflowRef: 'refs/heads/evil',
        };
        const { provenance, disagreements } = reconcileWithCertificate(
          normalize(SAMPLES.genericTag),
          claims,
        );
        assert.deepEqual(disagreements, []);
        assert.deepEqual(provenance, normalize(SAMPLES.genericTag));
      });
    });

    describe('when the predicate lacks a fact the certificate carries', () => {
      it('fills it in without a disagreement', () => {
        const statement = withPredicate(SAMPLES.sigstoreJs, (p) => {
          set(p, ['buildDefinition', 'externalParameters'], {});
          set(p, ['buildDefinition', 'resolvedDependencies'], []);
          unset(p, ['runDetails', 'metadata']);
        });
        const { provenance, disagreements } = reconcileWithCertificate(
          normalizeProvenance(statement)!,
          SAMPLES.sigstoreJs.claims,
        );
        assert.deepEqual(disagreements, []);
        assert.equal(provenance.sourceRepositoryUri, 'https://github.com/sigstore/sigstore-js');
        assert.equal(provenance.sourceRef, 'refs/heads/main');
        assert.equal(provenance.sourceCommit, '26d16513386ffaa790b1c32f927544f1322e4194');
        assert.equal(provenance.workflowPath, '.github/workflows/release.yml');
        assert.equal(
          provenance.invocationId,
          'https://github.com/sigstore/sigstore-js/actions/runs/6014488666/attempts/1',
        );
      });
    });

    describe('when the certificate has no claims', () => {
      it('returns the provenance unchanged', () => {
        const { provenance, disagreements } = reconcileWithCertificate(
          normalize(SAMPLES.sigstoreJs),
          {},
        );
        assert.deepEqual(provenance, normalize(SAMPLES.sigstoreJs));
        assert.deepEqual(disagreements, []);
      });
    });
  });
});
