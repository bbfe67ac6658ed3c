import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import {
  PreparedInput,
  createEngine,
  loadBundle,
  type Decision,
  type LoadedBundle,
  type PolicyEngine,
} from '../../src/policy/index.ts';
import { buildBundle, fixture, tempDir } from './opa.ts';
import { throwsCode } from './support.ts';

const NOW = { nowNs: 1_735_689_600_123_456_789n };

function assertDenied(decision: Decision, failure: string | undefined, reason: RegExp): void {
  assert.equal(decision.allow, false);
  assert.equal(decision.failure?.code, failure);
  assert.equal(decision.deny.length, 1);
  assert.match(decision.deny[0] ?? '', reason);
}

describe('PolicyEngine', () => {
  let contract: LoadedBundle;
  let engine: PolicyEngine;

  before(async () => {
    contract = await loadBundle({
      kind: 'archive',
      bytes: await buildBundle(fixture('contract'), { revision: 'c1' }),
    });
    engine = createEngine(contract);
  });

  describe('#evaluate', () => {
    describe('when the policy allows with no deny reason', () => {
      it('allows, with the warnings and the revision it was made under', () => {
        const d = engine.evaluate({ case: 'allow' }, NOW);
        assert.equal(d.allow, true);
        assert.deepEqual(d.deny, []);
        assert.deepEqual(d.warn, ['allowed']);
        assert.equal(d.failure, undefined);
        assert.equal(d.revision, 'c1');
        assert.equal(d.bundleDigest, contract.digest);
        assert.ok(d.durationMs >= 0);
      });
    });

    describe('when the policy denies', () => {
      it('denies with the policy reasons', () => {
        const d = engine.evaluate({ case: 'deny' }, NOW);
        assert.equal(d.allow, false);
        assert.deepEqual(d.deny, ['denied by policy']);
        assert.equal(d.failure, undefined);
      });
    });

    describe('when the policy says allow but gives a deny reason', () => {
      it('denies', () => {
        const d = engine.evaluate({ case: 'allow_with_deny' }, NOW);
        assert.equal(d.allow, false);
        assert.deepEqual(d.deny, ['but also denied']);
      });
    });

    describe('when the decision is undefined', () => {
      it('denies with NO_DECISION', () => {
        assertDenied(
          engine.evaluate({ case: 'nothing matches' }, NOW),
          'NO_DECISION',
          /no decision \(undefined\)/,
        );
      });
    });

    const shapes: [string, string, RegExp][] = [
      ['allow is not a boolean', 'allow_not_boolean', /allow must be a boolean/],
      ['deny holds a non-string', 'deny_not_strings', /deny must be an array of strings/],
      ['warn is missing', 'warn_missing', /warn must be an array of strings/],
      ['the decision is not an object', 'not_object', /must be an object/],
    ];
    for (const [when, kase, reason] of shapes) {
      describe(`when ${when}`, () => {
        it('denies with WRONG_SHAPE naming the field', () => {
          assertDenied(engine.evaluate({ case: kase }, NOW), 'WRONG_SHAPE', reason);
        });
      });
    }

    describe('when the evaluation throws', () => {
      it('denies with EVALUATION_FAILED', () => {
        assertDenied(engine.evaluate({ case: 'conflict' }, NOW), 'EVALUATION_FAILED', /conflict/);
      });
    });

    describe('when nowNs is given', () => {
      it('is what time.now_ns returns, exactly', () => {
        assert.deepEqual(engine.evaluate({ case: 'now' }, NOW).warn, [NOW.nowNs.toString()]);
      });
    });

    describe('when nowNs is missing', () => {
      it('denies with INPUT_INVALID', () => {
        assertDenied(engine.evaluate({ case: 'allow' }, {} as never), 'INPUT_INVALID', /nowNs/);
      });
    });

    describe('when the input cannot be serialized', () => {
      it('denies with INPUT_INVALID', () => {
        const cyclic: Record<string, unknown> = {};
        cyclic['self'] = cyclic;
        assertDenied(engine.evaluate(cyclic, NOW), 'INPUT_INVALID', /not serializable/);
        assertDenied(engine.evaluate({ n: 1n }, NOW), 'INPUT_INVALID', /not serializable/);
        assertDenied(engine.evaluate(undefined, NOW), 'INPUT_INVALID', /not a JSON value/);
      });
    });

    describe('when the input is over the size limit', () => {
      it('denies with INPUT_INVALID', () => {
        const small = createEngine(contract, { limits: { maxInputBytes: 64 } });
        assertDenied(
          small.evaluate({ case: 'allow', pad: 'x'.repeat(100) }, NOW),
          'INPUT_INVALID',
          /over the limit/,
        );
        assert.equal(small.evaluate({ case: 'allow' }, NOW).allow, true);
      });
    });

    describe('when the evaluation overruns its time budget', () => {
      it('discards the result and denies with TIME_BUDGET_EXCEEDED', () => {
        let t = 0;
        const slow = createEngine(contract, {
          clock: () => (t += 60),
          limits: { timeBudgetMs: 50 },
        });
        const d = slow.evaluate({ case: 'allow' }, NOW);
        assertDenied(d, 'TIME_BUDGET_EXCEEDED', /time budget of 50 ms/);
        assert.equal(d.durationMs, 60);
        assert.equal(slow.stats().failures.TIME_BUDGET_EXCEEDED, 1);
      });
    });

    describe('when the input is prepared once', () => {
      it('evaluates it like the object itself', () => {
        const prepared = engine.prepareInput({ case: 'deny' });
        assert.ok(prepared instanceof PreparedInput);
        assert.deepEqual(engine.evaluate(prepared, NOW).deny, ['denied by policy']);
        assert.deepEqual(engine.evaluate(prepared, NOW).deny, ['denied by policy']);
      });

      it('refuses an input it cannot serialize with INPUT_INVALID', () => {
        throwsCode(() => engine.prepareInput({ n: 1n }), 'INPUT_INVALID');
      });
    });
  });

  describe('instance pool', () => {
    describe('when an instance throws', () => {
      it('discards it and serves the next evaluation from a fresh one', () => {
        const e = createEngine(contract, { limits: { poolSize: 1 } });
        const before = e.stats();
        assert.equal(before.instancesCreated, 1);
        assertDenied(e.evaluate({ case: 'conflict' }, NOW), 'EVALUATION_FAILED', /conflict/);
        assert.equal(e.stats().instancesDiscarded, 1);
        const d = e.evaluate({ case: 'allow' }, NOW);
        assert.equal(d.allow, true);
        assert.equal(e.stats().instancesCreated, 2);
        assert.equal(e.stats().failures.EVALUATION_FAILED, 1);
      });
    });

    describe('when an input does not fit the memory limit', () => {
      it('denies with EVALUATION_FAILED, and the engine keeps serving', () => {
        const e = createEngine(contract, { limits: { initialMemoryPages: 4, maxMemoryPages: 8 } });
        // ~1 MiB of input cannot fit in 512 KiB of linear memory.
        const big = { case: 'allow', pad: 'x'.repeat(1 << 20) };
        assertDenied(e.evaluate(big, NOW), 'EVALUATION_FAILED', /policy evaluation failed/);
        assert.equal(e.evaluate({ case: 'allow' }, NOW).allow, true);
      });
    });

    describe('when the bundle data does not fit the memory limit', () => {
      it('throws INSTANCE_FAILED at creation', async () => {
        const dir = join(await tempDir(), 'rego');
        await mkdir(dir);
        await writeFile(
          join(dir, 'p.rego'),
          'package provgate\n\ndecision := {"allow": false, "deny": ["x"], "warn": []}\n',
        );
        await writeFile(join(dir, 'data.json'), JSON.stringify({ blob: 'y'.repeat(1 << 20) }));
        const bundle = await loadBundle({ kind: 'archive', bytes: await buildBundle(dir) });
        throwsCode(
          () => createEngine(bundle, { limits: { initialMemoryPages: 4, maxMemoryPages: 8 } }),
          'INSTANCE_FAILED',
        );
      });
    });
  });

  describe('createEngine', () => {
    describe('when the bundle fails the smoke evaluation', () => {
      it('throws SMOKE_TEST_FAILED', async () => {
        const bundle = await loadBundle({
          kind: 'archive',
          bytes: await buildBundle(fixture('bad-shape')),
        });
        throwsCode(() => createEngine(bundle), 'SMOKE_TEST_FAILED');
      });
    });

    describe('when a smoke input is configured', () => {
      it('uses it (here: an input with no decision, so the bundle is refused)', () => {
        throwsCode(
          () => createEngine(contract, { smokeTest: { input: { case: 'nothing' } } }),
          'SMOKE_TEST_FAILED',
        );
      });
    });
  });

  describe('#reload', () => {
    describe('when the candidate loads and passes the smoke evaluation', () => {
      it('activates it and counts the reload', async () => {
        const e = createEngine(contract);
        const next = await loadBundle({
          kind: 'archive',
          bytes: await buildBundle(fixture('contract'), { revision: 'c2' }),
        });
        const outcome = await e.reload(() => Promise.resolve(next));
        assert.deepEqual(outcome, {
          status: 'activated',
          revision: 'c2',
          digest: next.digest,
          previousRevision: 'c1',
        });
        assert.equal(e.revision, 'c2');
        assert.equal(e.evaluate({ case: 'allow' }, NOW).revision, 'c2');
        assert.equal(e.stats().reloads, 1);
      });
    });

    describe('when the candidate is the active bundle', () => {
      it('reports it unchanged and does not count a reload', async () => {
        const e = createEngine(contract);
        const outcome = await e.reload(() => Promise.resolve(contract));
        assert.equal(outcome.status, 'unchanged');
        assert.equal(e.stats().reloads, 0);
      });
    });

    describe('when the candidate fails', () => {
      it('keeps the active bundle, counts the failure and returns the coded error', async () => {
        const e = createEngine(contract);
        const bad = await loadBundle({
          kind: 'archive',
          bytes: await buildBundle(fixture('bad-shape')),
        });
        const outcome = await e.reload(() => Promise.resolve(bad));
        assert.equal(outcome.status, 'failed');
        assert.equal(outcome.status === 'failed' ? outcome.error.code : '', 'SMOKE_TEST_FAILED');
        const crashed = await e.reload(() => Promise.reject(new Error('disk on fire')));
        assert.equal(crashed.status === 'failed' ? crashed.error.code : '', 'BUNDLE_READ_FAILED');
        assert.equal(e.revision, 'c1');
        assert.equal(e.evaluate({ case: 'allow' }, NOW).allow, true);
        assert.equal(e.stats().reloadFailures, 2);
        assert.equal(e.stats().lastReloadError?.code, 'BUNDLE_READ_FAILED');
      });
    });
  });
});
