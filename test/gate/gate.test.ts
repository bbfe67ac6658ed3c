// The gate's orchestration: real verification of real samples; the policy is a
// recording evaluator here (the compiled default policy is tested end to end
// in test/e2e), so these tests pin down what decide() itself guarantees.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { ArtifactRef, AttestationDiscovery } from '../../src/discover/index.ts';
import { DiscoveryError } from '../../src/discover/index.ts';
import {
  createGate,
  type GateOptions,
  type PolicyEvaluator,
  type PolicyInput,
} from '../../src/gate/index.ts';
import { buildTrustMaterial, embeddedNpmKeys, embeddedTrustedRoot } from '../../src/trust/index.ts';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const bundle = readFileSync(new URL('gh-attestation/sigstore-js-2.1.0-bundle.json', FIXTURES));
const SHA512 =
  '90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f';
const artifact: ArtifactRef = { name: 'sigstore-js-2.1.0.tgz', digests: { sha512: SHA512 } };
const trust = buildTrustMaterial({
  trustedRoots: [embeddedTrustedRoot()],
  npmKeys: [embeddedNpmKeys()],
});

/** Allows when some attestation verified; records every input it saw. */
function recordingPolicy(): PolicyEvaluator & { inputs: PolicyInput[] } {
  const inputs: PolicyInput[] = [];
  return {
    revision: 'test-rev',
    inputs,
    evaluate(input) {
      inputs.push(input);
      const ok = input.attestations.some((a) => a.verified);
      return { allow: ok, deny: ok ? [] : ['no verified attestation'], warn: ['a warning'] };
    },
  };
}

function gate(overrides: Partial<GateOptions> = {}, policy = recordingPolicy()) {
  return {
    policy,
    gate: createGate({
      trust: () => trust,
      policy: () => policy,
      cache: { maxEntries: 100, ttlSeconds: 60 },
      deadlineMs: 2000,
      limits: { jsonDepth: 64, attestationsPerRequest: 8, attestationBytes: 1 << 20 },
      now: () => new Date('2026-11-29T12:00:00Z'),
      ...overrides,
    }),
  };
}

const request = (bytes: Uint8Array = bundle) => ({
  kind: 'admit' as const,
  context: { test: true },
  artifacts: [{ artifact, attestations: [{ source: 'inline[0]', bytes }], discover: false }],
});

describe('Gate', () => {
  describe('#decide', () => {
    it('hands the policy the verified facts and reports the decision', async () => {
      const { gate: g, policy } = gate();
      const d = await g.decide(request());
      assert.equal(d.allowed, true);
      assert.deepEqual(d.reasons, []);
      assert.deepEqual(d.warnings, ['a warning']);
      assert.equal(d.policyRevision, 'test-rev');
      assert.equal(d.trustRevision, trust.revision);
      const [input] = policy.inputs;
      assert.equal(input!.request.kind, 'admit');
      assert.equal(input!.request.time, '2026-11-29T12:00:00.000Z');
      const a = input!.attestations[0]!;
      assert.ok(a.verified);
      assert.equal(a.source, 'inline[0]');
      assert.equal(a.predicateType, 'https://slsa.dev/provenance/v1');
      assert.equal(a.provenance?.sourceRepositoryUri, 'https://github.com/sigstore/sigstore-js');
    });

    it('gives the policy a failed outcome with its code and never its statement', async () => {
      const tampered = JSON.parse(bundle.toString('utf8')) as {
        dsseEnvelope: { signatures: { sig: string }[] };
      };
      const sig = Buffer.from(tampered.dsseEnvelope.signatures[0]!.sig, 'base64');
      sig[10] = sig[10]! ^ 1;
      tampered.dsseEnvelope.signatures[0]!.sig = sig.toString('base64');
      const { gate: g, policy } = gate();
      const d = await g.decide(request(Buffer.from(JSON.stringify(tampered))));
      assert.equal(d.allowed, false);
      assert.deepEqual(policy.inputs[0]!.attestations, [
        {
          source: 'inline[0]',
          verified: false,
          error: {
            code: 'SIGNATURE_INVALID',
            message: 'the DSSE envelope signature does not verify with the signing key',
          },
        },
      ]);
    });

    it('denies when the request names no artifact', async () => {
      const d = await gate().gate.decide({ kind: 'admit', context: {}, artifacts: [] });
      assert.equal(d.allowed, false);
      assert.deepEqual(d.reasons, ['the request names no artifact']);
    });

    it('denies, naming the cause, when the policy throws', async () => {
      const throwing: PolicyEvaluator = {
        revision: 'r',
        evaluate() {
          throw new Error('wasm trap');
        },
      };
      const d = await gate({}, throwing as ReturnType<typeof recordingPolicy>).gate.decide(
        request(),
      );
      assert.equal(d.allowed, false);
      assert.match(d.reasons[0]!, /policy evaluation failed unexpectedly: wasm trap/);
    });

    it('denies, naming the cause, when discovery fails', async () => {
      const discovery: AttestationDiscovery = {
        name: 'broken',
        discover: () =>
          Promise.reject(
            new DiscoveryError('REGISTRY_UNREACHABLE', 'registry unreachable: connection refused'),
          ),
      };
      const req = request();
      req.artifacts[0]!.discover = true;
      const d = await gate({ discovery }).gate.decide(req);
      assert.equal(d.allowed, false);
      assert.deepEqual(d.reasons, ['discovery failed: registry unreachable: connection refused']);
    });

    it('denies with a timeout that names the stage when the deadline passes', async () => {
      const discovery: AttestationDiscovery = {
        name: 'hangs',
        discover: (_a, signal) =>
          new Promise((_resolve, reject) =>
            signal.addEventListener('abort', () => reject(new Error('aborted'))),
          ),
      };
      const req = { ...request(), deadlineMs: 50 };
      req.artifacts[0]!.discover = true;
      const d = await gate({ discovery }).gate.decide(req);
      assert.equal(d.allowed, false);
      assert.deepEqual(d.reasons, [`timed out after 50 ms during discovery for sha512:${SHA512}`]);
    });

    it('denies more attestations than the limit', async () => {
      const req = request();
      req.artifacts[0]!.attestations = Array.from({ length: 9 }, (_, i) => ({
        source: `inline[${i}]`,
        bytes: bundle,
      }));
      const d = await gate().gate.decide(req);
      assert.equal(d.allowed, false);
      assert.match(d.reasons[0]!, /9 attestation documents .* at most 8/);
    });

    it('decides each artifact and prefixes reasons with the artifact when there are several', async () => {
      const other = {
        name: 'other',
        uri: 'example.com/other@sha256:00',
        digests: { sha256: '00'.repeat(32) },
      };
      const req = request();
      req.artifacts.push({
        artifact: other,
        attestations: [{ source: 'inline[1]', bytes: bundle }],
        discover: false,
      });
      const d = await gate().gate.decide(req);
      assert.equal(d.allowed, false);
      assert.equal(d.artifacts.length, 2);
      assert.equal(d.artifacts[0]!.allowed, true);
      assert.deepEqual(d.reasons, ['example.com/other@sha256:00: no verified attestation']);
    });
  });

  describe('verification cache', () => {
    it('serves a repeated verification from the cache', async () => {
      const { gate: g } = gate();
      await g.decide(request());
      await g.decide(request());
      assert.equal(g.cacheStats.misses, 1);
      assert.equal(g.cacheStats.hits, 1);
    });

    it('never caches a failure', async () => {
      const { gate: g } = gate();
      const broken = Buffer.from('{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}');
      await g.decide(request(broken));
      await g.decide(request(broken));
      assert.equal(g.cacheStats.hits, 0);
      assert.equal(g.cacheStats.misses, 2);
    });

    it('keys results by trust revision', async () => {
      let current = trust;
      const { gate: g } = gate({ trust: () => current });
      await g.decide(request());
      current = buildTrustMaterial({ trustedRoots: [embeddedTrustedRoot()] });
      const d = await g.decide(request());
      assert.equal(g.cacheStats.hits, 0);
      assert.equal(d.trustRevision, current.revision);
    });

    it('still evaluates the policy on a cache hit', async () => {
      const { gate: g, policy } = gate();
      await g.decide(request());
      await g.decide(request());
      assert.equal(policy.inputs.length, 2);
    });
  });
});
