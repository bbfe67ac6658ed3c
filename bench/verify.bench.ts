// npm run bench:verify
// Median time per verification of real keyless bundles: provgate's verifier
// against a plain @sigstore/verify Verifier doing the same work, in one run.
// Both do every check each time (no result caching): chain, SCT, tlog, signature.
import { readFileSync } from 'node:fs';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { buildTrustMaterial, embeddedTrustedRoot } from '../src/trust/index.ts';
import {
  parseAttestations,
  parseDigest,
  verifyAttestation,
  type Artifact,
} from '../src/verify/index.ts';

const FIXTURES = new URL('../test/fixtures/', import.meta.url);
const WARMUP = 200;
const RUNS = Number(process.env.BENCH_RUNS ?? 2000);

interface Case {
  name: string;
  bundleText: string;
  artifact: Artifact;
  artifactBytes?: Buffer;
  san: string;
}

const tgz = readFileSync(new URL('gh-attestation/sigstore-js-2.1.0.tgz', FIXTURES));
const cases: Case[] = [
  {
    name: 'gh sigstore-js-2.1.0-bundle.json (v0.3, intoto, SLSA v1)',
    bundleText: readFileSync(
      new URL('gh-attestation/sigstore-js-2.1.0-bundle.json', FIXTURES),
      'utf8',
    ),
    artifact: { digests: { sha512: sha512(tgz) } },
    san: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
  },
  {
    name: 'generic-v2.1.0 push-v13.0.30 (v0.3, dsse, SLSA v0.2)',
    bundleText: readFileSync(
      new URL(
        'slsa-github-generator/generic-v2.1.0/binary-linux-amd64-push-v13.0.30.intoto.jsonl',
        FIXTURES,
      ),
      'utf8',
    ).trim(),
    artifact: {
      digests: parseDigest(
        'sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa',
      ),
    },
    san: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0',
  },
];

function sha512(buf: Buffer): string {
  return createHashHex('sha512', buf);
}

import { createHash } from 'node:crypto';
function createHashHex(alg: string, buf: Buffer): string {
  return createHash(alg).update(buf).digest('hex');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void): number {
  for (let i = 0; i < WARMUP; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(samples);
}

const root = embeddedTrustedRoot();
const ours = buildTrustMaterial({ trustedRoots: [root] });
const theirs = toTrustMaterial(TrustedRoot.fromJSON(root));
const issuer = 'https://token.actions.githubusercontent.com';

console.log(
  `node ${process.version}, ${RUNS} runs after ${WARMUP} warm-up, median ms per verification`,
);
console.log('| bundle | @sigstore/verify Verifier | provgate | speed-up |');
console.log('|---|---:|---:|---:|');
for (const c of cases) {
  // Each iteration starts from the bundle's text, as a request would.
  const plain = time(() => {
    const bundle = bundleFromJSON(JSON.parse(c.bundleText));
    const verifier = new Verifier(theirs);
    verifier.verify(toSignedEntity(bundle), {
      subjectAlternativeName: c.san,
      extensions: { issuer },
    });
  });
  const provgate = time(() => {
    const [attestation] = parseAttestations(c.bundleText);
    verifyAttestation(attestation!, c.artifact, ours, {
      identity: { subjectAlternativeName: { exact: c.san }, issuer: { exact: issuer } },
      now: new Date(),
    });
  });
  console.log(
    `| ${c.name} | ${plain.toFixed(3)} | ${provgate.toFixed(3)} | ${(plain / provgate).toFixed(1)}x |`,
  );
}
