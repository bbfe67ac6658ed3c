// The policy author's loop as users run it: `provgate policy eval` on the real
// policy inputs of policies/examples, and a user's own Rego (written here)
// compiled by `provgate policy build` and by a stock `opa build -t wasm`, loaded
// and evaluated by provgate. OPA is the project's pinned one, installed by
// scripts/tools.sh when missing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { assertRun, batch, ROOT, type Run } from './fixtures/provgate.ts';

const EXAMPLES = join(ROOT, 'policies/examples');
// Every attestation verified (SLSA provenance from the generic generator).
const ALLOWED = join(EXAMPLES, 'generic-v2.1.0-workflow_dispatch.json');
// The provenance's signature was tampered with: SIGNATURE_INVALID.
const DENIED = join(EXAMPLES, 'npm-gundam-visor-cli-v1-tag-invalidsigprov.json');

interface Decision {
  allow: boolean;
  deny: string[];
  warn: string[];
  failure?: { code: string; message: string };
}
const decision = (r: Run) => JSON.parse(r.stdout) as Decision;

// A user's own policy, Rego v1, formatted as `opa fmt` wants it (policy test checks).
const USER_POLICY = `# A user's own policy: every attestation must have verified, at least one must
# have, and no artifact named in data.provgate.params.blocked may pass.
package provgate

decision := {"allow": count(deny) == 0, "deny": deny, "warn": warn} if not input.request.context.shape

# Broken decisions on demand, for the decision contract's tests.
decision := {"allow": "yes", "deny": "none", "warn": []} if input.request.context.shape == "wrong"

deny contains msg if {
\tsome a in input.attestations
\tnot a.verified
\tmsg := sprintf("user policy: %s did not verify", [a.source])
}

deny contains "user policy: no attestation verified" if not any_verified

deny contains msg if {
\tinput.artifact.name in data.provgate.params.blocked
\tmsg := sprintf("user policy: %s is blocked", [input.artifact.name])
}

warn contains "user policy: evaluated"

any_verified if {
\tsome a in input.attestations
\ta.verified
}
`;

const USER_TESTS = `package provgate_test

import data.provgate

test_verified_allows if {
\tprovgate.decision.allow with input as {"attestations": [{"verified": true, "source": "a"}]}
}

test_unverified_denies if {
\td := provgate.decision with input as {"attestations": [{"verified": false, "source": "a"}]}
\td.deny == {"user policy: a did not verify", "user policy: no attestation verified"}
}
`;

// Wrong: an unverified attestation denies.
const FAILING_TEST = `package provgate_test

import data.provgate

test_unverified_allows if {
\tprovgate.decision.allow with input as {"attestations": [{"verified": false, "source": "a"}]}
}
`;

// Never a decision of the right shape: provgate refuses to load it.
const ALWAYS_WRONG = `package provgate

decision := {"allow": "yes", "deny": "none"}
`;

const scratch = mkdtempSync(join(tmpdir(), 'provgate-cli-policy-'));
function policyDir(name: string, files: Record<string, string>): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}
const userDir = policyDir('user', { 'policy.rego': USER_POLICY, 'policy_test.rego': USER_TESTS });
const failingDir = policyDir('failing', {
  'policy.rego': USER_POLICY,
  'policy_test.rego': FAILING_TEST,
});
const wrongDir = policyDir('wrong', { 'policy.rego': ALWAYS_WRONG });
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of a policy input with request.context.shape set (see USER_POLICY). */
function withShape(path: string, shape: string): string {
  const input = JSON.parse(readFileSync(path, 'utf8')) as {
    request: { context: Record<string, unknown> };
  };
  input.request.context['shape'] = shape;
  const out = join(scratch, `input-${shape}.json`);
  writeFileSync(out, JSON.stringify(input));
  return out;
}

function writeParams(name: string, params: unknown): string {
  const path = join(scratch, `${name}.params.json`);
  writeFileSync(path, JSON.stringify(params));
  return path;
}

/** Stock `opa build -t wasm` (no provgate script): the pinned OPA, installed when missing. */
async function opaBuild(dir: string, out: string): Promise<void> {
  const run = promisify(execFile);
  const { stdout } = await run(join(ROOT, 'scripts/tools.sh'), ['--path', 'opa']);
  await run(stdout.trim(), ['build', '-t', 'wasm', '-e', 'provgate/decision', '-o', out, dir]);
}

describe('provgate policy eval', () => {
  const cases = batch();
  const evaluate = (...args: string[]) => cases.add('policy', 'eval', ...args);
  const allowed = evaluate('--input', ALLOWED);
  const denied = evaluate('--input', DENIED);
  const otherSource = evaluate(
    '--input',
    ALLOWED,
    '--params',
    writeParams('other-source', { allowed_sources: ['github.com/acme/app'] }),
  );
  const itsSource = evaluate(
    '--input',
    ALLOWED,
    '--params',
    writeParams('its-source', { allowed_sources: ['github.com/slsa-framework/example-package'] }),
  );
  const noInput = evaluate();
  const notJson = evaluate('--input', join(ROOT, 'policies/README.md'));
  const noBundle = evaluate('--input', ALLOWED, '--bundle', join(scratch, 'missing.tar.gz'));

  before(() => cases.run());

  describe('with the default policy', () => {
    it('exits 0 with the decision for an allowed example', () => {
      assertRun(allowed(), 0);
      const d = decision(allowed());
      assert.equal(d.allow, true);
      assert.deepEqual(d.warn, [
        'accepting any source repository: no allowed_sources are configured',
      ]);
    });
    it('exits 1 with the reasons for a denied example', () => {
      assertRun(denied(), 1);
      const d = decision(denied());
      assert.equal(d.allow, false);
      assert.ok(
        d.deny.some((m) => /failed verification: SIGNATURE_INVALID/.test(m)),
        d.deny.join('\n'),
      );
    });
  });

  describe('with --params', () => {
    it('denies when allowed_sources excludes the source', () => {
      assertRun(otherSource(), 1);
      assert.deepEqual(decision(otherSource()).deny, [
        'source repository github.com/slsa-framework/example-package is not in allowed_sources [github.com/acme/app]',
      ]);
    });
    it('allows, without the warning, when allowed_sources names it', () => {
      assertRun(itsSource(), 0);
      assert.deepEqual(decision(itsSource()).warn, []);
    });
  });

  describe('when used wrongly', () => {
    it('exits 2 without --input', () => assertRun(noInput(), 2, /--input is required/));
    it('exits 2 for an input that is not JSON', () =>
      assertRun(notJson(), 2, /cannot read .*README\.md as JSON/));
    it('exits 2 for a bundle that does not exist', () =>
      assertRun(noBundle(), 2, /cannot load the policy: BUNDLE_READ_FAILED/));
  });
});

describe('a user’s own Rego policy', () => {
  const built = join(scratch, 'built.tar.gz');
  const stock = join(scratch, 'stock.tar.gz');
  const stockWrong = join(scratch, 'stock-wrong.tar.gz');
  // First the tools (build and test run OPA), then evaluations of what they built.
  const tools = batch();
  const build = tools.add('policy', 'build', userDir, '--out', built);
  const test = tools.add('policy', 'test', userDir);
  const testFailing = tools.add('policy', 'test', failingDir);
  const buildMissing = tools.add('policy', 'build', join(scratch, 'no-such-dir'), '--out', built);
  const evals = batch();
  const evaluate = (bundle: string, input: string, ...flags: string[]) =>
    evals.add('policy', 'eval', '--bundle', bundle, '--input', input, ...flags);
  const builtAllowed = evaluate(built, ALLOWED);
  const builtDenied = evaluate(built, DENIED);
  const stockAllowed = evaluate(stock, ALLOWED);
  const stockDenied = evaluate(stock, DENIED);
  const stockBlocked = evaluate(
    stock,
    ALLOWED,
    '--params',
    writeParams('blocked', { blocked: ['binary-linux-amd64-workflow_dispatch'] }),
  );
  const wrongShape = evaluate(stock, withShape(ALLOWED, 'wrong'));
  const noDecision = evaluate(stock, withShape(ALLOWED, 'none'));
  const alwaysWrong = evaluate(stockWrong, ALLOWED);

  before(async () => {
    await Promise.all([tools.run(), opaBuild(userDir, stock), opaBuild(wrongDir, stockWrong)]);
    await evals.run();
  });

  describe('provgate policy build DIR --out FILE', () => {
    it('compiles it to a bundle', () => {
      assertRun(build(), 0);
      assert.ok(existsSync(built) && statSync(built).size > 0);
    });
    it('gives a bundle that provgate policy eval loads and decides with', () => {
      assertRun(builtAllowed(), 0);
      assert.deepEqual(decision(builtAllowed()).warn, ['user policy: evaluated']);
      assertRun(builtDenied(), 1);
      assert.deepEqual(decision(builtDenied()).deny, [
        'user policy: gundam-visor-cli-v1-tag-invalidsigprov.tgz.json attestations[1] did not verify',
      ]);
    });
    it('exits 2 for a directory that does not exist', () =>
      assertRun(buildMissing(), 2, /is not a directory of Rego files/));
  });

  describe('built by a stock opa build -t wasm', () => {
    it('loads and decides', () => {
      assertRun(stockAllowed(), 0);
      assert.equal(decision(stockAllowed()).allow, true);
      assertRun(stockDenied(), 1);
      assert.equal(decision(stockDenied()).allow, false);
    });
    it('reads --params under data.provgate.params', () => {
      assertRun(stockBlocked(), 1);
      assert.deepEqual(decision(stockBlocked()).deny, [
        'user policy: binary-linux-amd64-workflow_dispatch is blocked',
      ]);
    });
  });

  describe('when the policy breaks the decision contract', () => {
    it('denies a decision of the wrong shape, saying so', () => {
      assertRun(wrongShape(), 1);
      const d = decision(wrongShape());
      assert.equal(d.allow, false);
      assert.equal(d.failure?.code, 'WRONG_SHAPE');
      assert.match(d.deny[0] ?? '', /policy decision has the wrong shape: allow must be a boolean/);
    });
    it('denies when the policy gives no decision, saying so', () => {
      assertRun(noDecision(), 1);
      const d = decision(noDecision());
      assert.equal(d.allow, false);
      assert.equal(d.failure?.code, 'NO_DECISION');
    });
    it('refuses to load a policy that never decides in the right shape', () =>
      assertRun(alwaysWrong(), 2, /SMOKE_TEST_FAILED: .*policy decision has the wrong shape/));
  });

  describe('provgate policy test DIR', () => {
    it('runs its opa tests', () => {
      assertRun(test(), 0);
      assert.match(test().stderr + test().stdout, /PASS: 2\/2/);
    });
    it('exits 1 when one fails', () => {
      assertRun(testFailing(), 1);
      assert.match(testFailing().stderr + testFailing().stdout, /FAIL/);
    });
  });
});
