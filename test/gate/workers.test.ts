import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { createGate, createVerifierPool, type PolicyEvaluator } from '../../src/gate/index.ts';
import { verifyDocument } from '../../src/gate/verifydoc.ts';
import { buildTrustMaterial, loadTrustInputs } from '../../src/trust/index.ts';

const bundle = readFileSync(
  new URL('../fixtures/gh-attestation/sigstore-js-2.1.0-bundle.json', import.meta.url),
);
const digests = {
  sha512:
    '90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f',
};
const limits = { jsonDepth: 64, attestationsPerRequest: 8, attestationBytes: 1 << 20 };
const inputs = loadTrustInputs();
const trust = buildTrustMaterial(inputs);
const pool = createVerifierPool(2, inputs);
after(() => pool.close());

describe('VerifierPool', () => {
  it('verifies under the same trust revision as the gate', () => {
    assert.equal(pool.revision, trust.revision);
  });

  it('gives the same outcomes as verification in this thread', async () => {
    const check = { bytes: bundle, digests, at: Date.parse('2026-11-29T00:00:00Z'), limits };
    assert.deepEqual(await pool.verify(check), verifyDocument(check, trust));
    const other = { ...check, digests: { sha512: '00'.repeat(64) } };
    const [failed] = await pool.verify(other);
    assert.equal(failed?.ok, false);
    assert.equal(!failed.ok && failed.error.code, 'SUBJECT_DIGEST_MISMATCH');
  });

  it('spreads concurrent work over the workers', async () => {
    const check = { bytes: bundle, digests, at: Date.now(), limits };
    const results = await Promise.all(Array.from({ length: 8 }, () => pool.verify(check)));
    assert.ok(results.every((r) => r.length === 1 && r[0]!.ok));
  });

  it('serves the gate: decisions use the workers', async () => {
    const policy: PolicyEvaluator = {
      revision: 't',
      evaluate: (input) => ({
        allow: input.attestations.every((a) => a.verified),
        deny: [],
        warn: [],
      }),
    };
    let used = 0;
    const gate = createGate({
      trust: () => trust,
      policy: () => policy,
      verifier: (check) => {
        used++;
        return pool.verify(check);
      },
      cache: { maxEntries: 0, ttlSeconds: 1 },
      deadlineMs: 10_000,
      limits,
    });
    const d = await gate.decide({
      kind: 'admit',
      context: {},
      artifacts: [
        {
          artifact: { name: 'x', digests },
          attestations: [{ source: 'inline', bytes: bundle }],
          discover: false,
        },
      ],
    });
    assert.equal(d.allowed, true);
    assert.equal(used, 1);
  });

  it('refuses work once closed', async () => {
    const p = createVerifierPool(1, inputs);
    await p.close();
    await assert.rejects(p.verify({ bytes: bundle, digests, at: Date.now(), limits }), /closed/);
  });
});
