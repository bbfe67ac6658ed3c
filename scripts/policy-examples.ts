// Writes policies/examples/*.json: policy inputs built from the real samples in
// test/fixtures (SOURCES.md says where each came from) by the verification
// core, one outcome per attestation, the way provgate hands them to the policy.
//
//   node scripts/policy-examples.ts           (re)write the examples
//   node scripts/policy-examples.ts --check   exit 1 when an example is stale
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { loadTrustMaterial } from '../src/trust/index.ts';
import {
  parseAttestations,
  parseDigest,
  verifyAttestation,
  VerificationError,
  type Artifact,
} from '../src/verify/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'test', 'fixtures');
const examples = join(root, 'policies', 'examples');

// One fixed clock: only a bare DSSE envelope would read it, and examples must
// not change from one run to the next.
const NOW = new Date('2026-01-01T00:00:00Z');
const GENERIC_DIGEST = 'sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa';

interface Example {
  name: string;
  bundle: string;
  /** A file under test/fixtures, or a digest. */
  artifact: string;
  request: { kind: 'cli' | 'admit' | 'upload' | 'kubernetes'; context: Record<string, unknown> };
  /** The artifact as the request names it. */
  names: { name: string; version?: string; uri?: string };
}

const generic = (tag: string, file: string): Example => ({
  name: `generic-v2.1.0-${tag}`,
  bundle: `slsa-github-generator/generic-v2.1.0/${file}`,
  artifact: GENERIC_DIGEST,
  request: { kind: 'cli', context: { command: 'verify-artifact' } },
  names: { name: `binary-linux-amd64-${tag}` },
});

const npm = (file: string, name: string, version: string): Example => ({
  name: `npm-${file}`,
  bundle: `npm-attestations/${file}.tgz.json`,
  artifact: `npm-attestations/${file}.tgz`,
  request: { kind: 'upload', context: { registry: 'npm', operation: 'publish' } },
  names: { name, version, uri: `pkg:npm/${name.replace('@', '%40')}@${version}` },
});

const gh = (name: string, bundle: string, artifact: string): Example => ({
  name: `gh-${name}`,
  bundle: `gh-attestation/${bundle}`,
  artifact: `gh-attestation/${artifact}`,
  request: { kind: 'cli', context: { command: 'attestation verify' } },
  names: { name: artifact },
});

const EXAMPLES: Example[] = [
  generic('workflow_dispatch', 'binary-linux-amd64-workflow_dispatch.intoto.jsonl'),
  generic('push-v13.0.30', 'binary-linux-amd64-push-v13.0.30.intoto.jsonl'),
  generic('push-v14', 'binary-linux-amd64-push-v14.intoto.jsonl'),
  generic('push-v14.2', 'binary-linux-amd64-push-v14.2.intoto.jsonl'),
  npm('gundam-visor-cli-v1-tag', 'gundam-visor', '1.0.1'),
  npm('supreme-googles-cli-v02-tag', '@trishankatdatadog/supreme-goggles', '1.0.5'),
  npm('provenance-npm-test-cli-v02-prega', '@laurentsimon/provenance-npm-test', '1.0.3'),
  npm('provenance-npm-test-cli-v1-prega', 'sigstore', '2.3.1'),
  npm('provenance-npm-test-ossf', '@laurentsimon/provenance-npm-test', '1.0.5'),
  npm('gundam-visor-cli-v1-tag-invalidsigprov', 'gundam-visor', '1.0.1'),
  npm('gundam-visor-cli-v1-tag-invalidsigpub', 'gundam-visor', '1.0.1'),
  gh('sigstore-js-2.1.0', 'sigstore-js-2.1.0-bundle.json', 'sigstore-js-2.1.0.tgz'),
  gh(
    'reusable-workflow',
    'reusable-workflow-attestation.sigstore.json',
    'reusable-workflow-artifact',
  ),
  gh('custom-issuer', 'custom-issuer.sigstore.json', 'custom-issuer-artifact'),
];

function artifactFor(spec: string): Artifact {
  if (spec.startsWith('sha256:') || spec.startsWith('sha512:'))
    return { digests: parseDigest(spec) };
  const bytes = readFileSync(join(fixtures, spec));
  return {
    digests: {
      sha256: createHash('sha256').update(bytes).digest('hex'),
      sha512: createHash('sha512').update(bytes).digest('hex'),
    },
    bytes,
  };
}

function buildInput(example: Example): unknown {
  const trust = loadTrustMaterial();
  const artifact = artifactFor(example.artifact);
  const file = basename(example.bundle);
  const attestations = parseAttestations(readFileSync(join(fixtures, example.bundle))).map(
    (parsed) => {
      const source = `${file} ${parsed.origin}`;
      try {
        const v = verifyAttestation(parsed, artifact, trust, { now: NOW });
        return {
          source,
          verified: true,
          mediaType: v.mediaType,
          ...(v.statement === undefined ? {} : { predicateType: v.statement.predicateType }),
          signer: v.signer,
          content: v.content,
          subject: v.matchedSubject,
          ...(v.statement === undefined ? {} : { statement: v.statement }),
          ...(v.provenance === undefined ? {} : { provenance: v.provenance }),
          disagreements: v.disagreements,
          tlogEntries: v.tlogEntries,
          timestamps: v.timestamps,
        };
      } catch (err) {
        if (!(err instanceof VerificationError)) throw err;
        return { source, verified: false, error: { code: err.code, message: err.message } };
      }
    },
  );
  return {
    request: {
      kind: example.request.kind,
      time: NOW.toISOString(),
      context: example.request.context,
    },
    artifact: { ...example.names, digests: artifact.digests },
    attestations,
  };
}

const check = process.argv.includes('--check');
let stale = 0;
for (const example of EXAMPLES) {
  const path = join(examples, `${example.name}.json`);
  // Formatted as `prettier --check .` expects of every JSON file in the repository.
  const text = await prettier.format(JSON.stringify(buildInput(example)), {
    ...(await prettier.resolveConfig(path)),
    filepath: path,
  });
  if (check) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // missing: stale
    }
    if (current !== text) {
      stale++;
      process.stderr.write(`stale: policies/examples/${example.name}.json\n`);
    }
  } else {
    writeFileSync(path, text);
    process.stderr.write(`wrote policies/examples/${example.name}.json\n`);
  }
}
if (stale > 0) {
  process.stderr.write('run: node scripts/policy-examples.ts\n');
  process.exitCode = 1;
}
