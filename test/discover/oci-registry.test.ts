// End to end with real components: two real registries on loopback (go-
// containerregistry's, one with the OCI 1.1 referrers API and one without it,
// so the referrers tag schema is used), populated by the real
// clients (crane pushes images, oras attaches Sigstore bundles from the test
// PKI, cosign attests with a key and no transparency log), then admission
// decisions through the gate with registry discovery and provgate's verifier.
// The policy is a stand-in (allow when an attestation verified); the real
// Rego policies are tested on their own.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createOciDiscovery, type OciDiscovery } from '../../src/discover/index.ts';
import { createGate, type Gate, type PolicyEvaluator } from '../../src/gate/index.ts';
import { buildTrustMaterial, type TrustMaterial } from '../../src/trust/index.ts';
import {
  createTestPki,
  inTotoStatement,
  IN_TOTO_PAYLOAD_TYPE,
  type TestPki,
} from '../support/pki.ts';
import {
  digestOf,
  pushImage,
  runTool,
  startCraneRegistry,
  startRegistryWithoutReferrers,
  type RunningRegistry,
  cosignAttest as attestWithCosign,
} from '../support/registry.ts';

const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const SLSA_V1 = 'https://slsa.dev/provenance/v1';
const PREDICATE = {
  buildDefinition: {
    buildType: 'https://example.com/build@v1',
    externalParameters: {},
    resolvedDependencies: [],
  },
  runDetails: { builder: { id: 'https://example.com/builder' } },
};

/** Allows when some attestation verified; otherwise denies naming each failure's code. */
const policy: PolicyEvaluator = {
  revision: 'test',
  evaluate(input) {
    const ok = input.attestations.some((a) => a.verified);
    const failures = input.attestations.flatMap((a) => (a.verified ? [] : [a.error.code]));
    return {
      allow: ok,
      deny: ok ? [] : failures.length > 0 ? failures : ['no attestation'],
      warn: [],
    };
  },
};

let pki: TestPki;
let work: string;
/** COSIGN_PASSWORD empty, HOME and TUF_ROOT in the temporary folder: cosign touches nothing else. */
let cosignEnv: Record<string, string>;

before(async () => {
  pki = await createTestPki();
  work = await mkdtemp(join(tmpdir(), 'provgate-oci-'));
  cosignEnv = { COSIGN_PASSWORD: '', HOME: work, TUF_ROOT: join(work, 'tuf') };
  await writeFile(join(work, 'predicate.json'), JSON.stringify(PREDICATE));
  for (const name of ['trusted', 'untrusted']) {
    await runTool('cosign', ['generate-key-pair', '--output-key-prefix', name], {
      cwd: work,
      env: cosignEnv,
    });
  }
});

after(() => rm(work, { recursive: true, force: true }));

function statementFor(ref: string, digest: string): Buffer {
  return inTotoStatement(
    [{ name: ref, digest: { sha256: digest.slice('sha256:'.length) } }],
    SLSA_V1,
    PREDICATE,
  );
}

/** `oras attach` of a Sigstore bundle to `ref@digest`, as a referrer. */
async function attachBundle(ref: string, bundle: unknown): Promise<string> {
  const file = `bundle-${Math.random().toString(16).slice(2)}.sigstore.json`;
  await writeFile(join(work, file), JSON.stringify(bundle));
  const out = await runTool(
    'oras',
    ['attach', '--plain-http', '--artifact-type', BUNDLE_TYPE, ref, `${file}:${BUNDLE_TYPE}`],
    { cwd: work },
  );
  return digestOf(out.slice(out.indexOf('Digest:')));
}

/** `cosign attest --key` with no transparency log: a `.att` tag with a DSSE envelope layer. */
function cosignAttest(ref: string, key: 'trusted' | 'untrusted'): Promise<string> {
  return attestWithCosign(ref, `${key}.key`, { cwd: work, env: cosignEnv });
}

const REGISTRIES = [
  { label: 'go-containerregistry (referrers API)', start: startCraneRegistry, how: 'referrer' },
  {
    label: 'no referrers API: tag schema fallback',
    start: startRegistryWithoutReferrers,
    how: 'referrer (tag)',
  },
];

for (const { label, start, how } of REGISTRIES) {
  describe(`OCI discovery with the ${label} registry`, () => {
    let registry: RunningRegistry;
    let discovery: OciDiscovery;
    let gate: Gate;
    let trust: TrustMaterial;
    const images: Record<string, string> = {};

    before(async () => {
      registry = await start();
      const host = registry.host;
      const push = async (name: string) => {
        images[name] = await pushImage(`${host}/${name}:v1`, `${name} on ${registry.kind}`);
        return images[name];
      };
      await Promise.all(
        ['attested', 'cosigned', 'plain', 'tampered', 'untrusted', 'other'].map(push),
      );

      // A keyless Sigstore bundle from the test PKI whose subject is the image.
      const bundle = await pki.signDsse(
        statementFor(`${host}/attested`, images.attested!),
        IN_TOTO_PAYLOAD_TYPE,
      );
      await attachBundle(`${host}/attested@${images.attested}`, bundle);

      // The same kind of bundle with one signature byte flipped.
      const tampered = await pki.signDsse(
        statementFor(`${host}/tampered`, images.tampered!),
        IN_TOTO_PAYLOAD_TYPE,
      );
      const sig = Buffer.from(tampered.dsseEnvelope!.signatures[0]!.sig, 'base64');
      sig[sig.length - 1]! ^= 1;
      tampered.dsseEnvelope!.signatures[0]!.sig = sig.toString('base64');
      await attachBundle(`${host}/tampered@${images.tampered}`, tampered);

      // A valid bundle for another image's digest, attached to this one.
      await attachBundle(`${host}/other@${images.other}`, bundle);

      await cosignAttest(`${host}/cosigned@${images.cosigned}`, 'trusted');
      await cosignAttest(`${host}/untrusted@${images.untrusted}`, 'untrusted');

      trust = buildTrustMaterial({
        trustedRoots: [pki.trustedRoot],
        keys: [{ keyId: 'cosign-test', pem: await readFile(join(work, 'trusted.pub'), 'utf8') }],
      });
      discovery = createOciDiscovery({ insecureRegistries: [host] });
      gate = createGate({
        trust: () => trust,
        policy: () => policy,
        discovery,
        cache: { maxEntries: 100, ttlSeconds: 60 },
        deadlineMs: 10_000,
        limits: { jsonDepth: 64, attestationsPerRequest: 16, attestationBytes: 1 << 20 },
      });
    });

    after(() => registry?.stop());

    /** Admits `name` the way the Kubernetes endpoint does: resolve the tag, then decide on the digest. */
    async function admit(name: string) {
      const ref = `${registry.host}/${name}:v1`;
      const { digest } = await discovery.resolveTag(ref, AbortSignal.timeout(5000));
      return gate.decide({
        kind: 'kubernetes',
        context: { image: ref },
        artifacts: [
          {
            artifact: {
              name: `${registry.host}/${name}`,
              uri: `${ref}@${digest}`,
              digests: { sha256: digest.slice('sha256:'.length) },
            },
            attestations: [],
            discover: true,
          },
        ],
      });
    }

    describe('#resolveTag', () => {
      it('resolves a tag to the digest crane pushed', async () => {
        const r = await discovery.resolveTag(
          `${registry.host}/attested:v1`,
          AbortSignal.timeout(5000),
        );
        assert.equal(r.digest, images.attested);
        assert.equal(r.mediaType, 'application/vnd.oci.image.manifest.v1+json');
      });

      it('resolves a tag naming an index to the index digest', async () => {
        const host = registry.host;
        const out = await runTool('crane', [
          'index',
          'append',
          '--insecure',
          '-m',
          `${host}/attested@${images.attested}`,
          '-m',
          `${host}/plain@${images.plain}`,
          '-t',
          `${host}/multi:v1`,
        ]);
        const r = await discovery.resolveTag(`${host}/multi:v1`, AbortSignal.timeout(5000));
        assert.equal(r.digest, digestOf(out));
        assert.equal(r.mediaType, 'application/vnd.oci.image.index.v1+json');
      });

      it('throws TAG_NOT_FOUND for a tag that does not exist', async () => {
        await assert.rejects(
          discovery.resolveTag(`${registry.host}/attested:nope`, AbortSignal.timeout(5000)),
          { code: 'TAG_NOT_FOUND' },
        );
      });
    });

    describe('admission through the gate', () => {
      it('allows the image with a Sigstore bundle attached by oras', async () => {
        const d = await admit('attested');
        assert.deepEqual(d.reasons, []);
        assert.equal(d.allowed, true);
        const [a] = d.artifacts[0]!.attestations;
        assert.equal(a!.verified, true);
        assert.equal(a!.predicateType, SLSA_V1);
        assert.match(
          a!.source,
          new RegExp(`^${registry.host}/attested ${how.replace(/[()]/g, '\\$&')} sha256:`),
        );
      });

      it('allows the image attested by cosign with a trusted key', async () => {
        const d = await admit('cosigned');
        assert.deepEqual(d.reasons, []);
        assert.equal(d.allowed, true);
        assert.match(d.artifacts[0]!.attestations[0]!.source, /sha256-[a-f0-9]{64}\.att layer 0$/);
      });

      it('denies an image with no attestation, saying none is attached to its digest', async () => {
        const d = await admit('plain');
        assert.equal(d.allowed, false);
        assert.equal(d.reasons.length, 1);
        assert.match(
          d.reasons[0]!,
          new RegExp(`^discovery failed: no attestations attached to ${images.plain}`),
        );
      });

      it('denies an image whose bundle was tampered with (SIGNATURE_INVALID)', async () => {
        const d = await admit('tampered');
        assert.equal(d.allowed, false);
        assert.deepEqual(d.reasons, ['SIGNATURE_INVALID']);
      });

      it('denies an image attested with a key that is not trusted (SIGNATURE_INVALID)', async () => {
        const d = await admit('untrusted');
        assert.equal(d.allowed, false);
        assert.deepEqual(d.reasons, ['SIGNATURE_INVALID']);
      });

      it('denies an image whose attached attestation is for another digest (SUBJECT_DIGEST_MISMATCH)', async () => {
        const d = await admit('other');
        assert.equal(d.allowed, false);
        assert.deepEqual(d.reasons, ['SUBJECT_DIGEST_MISMATCH']);
      });

      it('serves a second admission from the caches without a registry request', async () => {
        await admit('attested');
        const before = discovery.stats.requests;
        const d = await admit('attested');
        assert.equal(d.allowed, true);
        assert.equal(discovery.stats.requests, before);
      });
    });
  });
}

describe('OCI discovery of a keyless cosign attestation (.att with certificate and Rekor bundle)', () => {
  let registry: RunningRegistry;

  before(async () => {
    registry = await startCraneRegistry();
  });
  after(() => registry?.stop());

  it('turns the layer and its annotations into a bundle that verifies', async () => {
    const host = registry.host;
    const digest = await pushImage(`${host}/keyless:v1`, 'keyless');
    // What cosign writes for a keyless attestation: a DSSE envelope layer, the
    // Fulcio certificate and Rekor's inclusion promise in its annotations.
    const signed = await pki.signDsse(
      statementFor(`${host}/keyless`, digest),
      IN_TOTO_PAYLOAD_TYPE,
      { bundleVersion: '0.1', entryKind: 'intoto', proof: 'inclusion-promise' },
    );
    const chain = signed.verificationMaterial.x509CertificateChain!.certificates;
    const entry = signed.verificationMaterial.tlogEntries[0]!;
    const pem = (b64: string) =>
      `-----BEGIN CERTIFICATE-----\n${b64.replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
    await writeFile(join(work, 'envelope.json'), JSON.stringify(signed.dsseEnvelope));
    await writeFile(
      join(work, 'annotations.json'),
      JSON.stringify({
        'envelope.json': {
          'dev.cosignproject.cosign/signature': '',
          predicateType: SLSA_V1,
          'dev.sigstore.cosign/certificate': pem(chain[0]!.rawBytes),
          'dev.sigstore.cosign/chain': '',
          'dev.sigstore.cosign/bundle': JSON.stringify({
            SignedEntryTimestamp: entry.inclusionPromise!.signedEntryTimestamp,
            Payload: {
              body: entry.canonicalizedBody,
              integratedTime: Number(entry.integratedTime),
              logIndex: Number(entry.logIndex),
              logID: Buffer.from(entry.logId.keyId, 'base64').toString('hex'),
            },
          }),
        },
      }),
    );
    await runTool(
      'oras',
      [
        'push',
        '--plain-http',
        '--annotation-file',
        'annotations.json',
        `${host}/keyless:${digest.replace(':', '-')}.att`,
        'envelope.json:application/vnd.dsse.envelope.v1+json',
      ],
      { cwd: work },
    );

    const discovery = createOciDiscovery({ insecureRegistries: [host] });
    const gate = createGate({
      trust: () => buildTrustMaterial({ trustedRoots: [pki.trustedRoot] }),
      policy: () => policy,
      discovery,
      cache: { maxEntries: 10, ttlSeconds: 60 },
      deadlineMs: 10_000,
      limits: { jsonDepth: 64, attestationsPerRequest: 16, attestationBytes: 1 << 20 },
    });
    const d = await gate.decide({
      kind: 'kubernetes',
      context: {},
      artifacts: [
        {
          artifact: { name: `${host}/keyless`, digests: { sha256: digest.slice(7) } },
          attestations: [],
          discover: true,
        },
      ],
    });
    assert.deepEqual(d.reasons, []);
    assert.equal(d.allowed, true);
    assert.match(d.artifacts[0]!.attestations[0]!.source, /\.att layer 0 \(keyless\)$/);
  });
});
