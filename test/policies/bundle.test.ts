// The committed default bundle is what the pinned OPA builds from policies/src:
// `npm start` runs it without Go, so it must never drift from its sources.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import {
  INSTALL_TIMEOUT_MS,
  POLICIES,
  ROOT,
  importedBuiltins,
  installOpa,
  readBundle,
  run,
} from './opa.ts';

interface Manifest {
  revision: string;
  roots: string[];
  wasm: { entrypoint: string; module: string }[];
  rego_version: number;
}

// What provgate's host may be asked for (issue 3); the SDK's own are not listed.
const HOST_BUILTINS = [
  'time.now_ns',
  'time.parse_rfc3339_ns',
  'time.add_date',
  'semver.compare',
  'semver.is_valid',
  'regex.replace',
  'glob.quote_meta',
  'units.parse_bytes',
];

describe('policies/bundle.tar.gz', () => {
  let tmp: string;
  let committed: Map<string, Buffer>;
  let rebuilt: Map<string, Buffer>;
  let committedBytes: Buffer;
  let rebuiltBytes: Buffer;
  let revision: string;

  before(
    async () => {
      await installOpa();
      tmp = await mkdtemp(join(tmpdir(), 'provgate-bundle-'));
      const out = join(tmp, 'bundle.tar.gz');
      await run('bash', [join(ROOT, 'scripts', 'policy.sh'), 'build', '--out', out]);
      revision = (await run('bash', [join(ROOT, 'scripts', 'policy.sh'), 'revision'])).trim();
      committedBytes = await readFile(join(POLICIES, 'bundle.tar.gz'));
      rebuiltBytes = await readFile(out);
      committed = await readBundle(committedBytes);
      rebuilt = await readBundle(rebuiltBytes);
    },
    { timeout: INSTALL_TIMEOUT_MS + 120_000 },
  );

  after(async () => {
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  });

  const manifest = (files: Map<string, Buffer>): Manifest =>
    JSON.parse(files.get('.manifest')?.toString('utf8') ?? 'null') as Manifest;

  describe('when rebuilt from policies/src with the pinned OPA', () => {
    it('has the same policy.wasm bytes', () => {
      const wasm = committed.get('policy.wasm');
      assert.ok(wasm !== undefined && wasm.length > 0, 'the committed bundle has a policy.wasm');
      assert.ok(
        wasm.equals(rebuilt.get('policy.wasm') ?? Buffer.alloc(0)),
        'policy.wasm differs: run scripts/policy.sh build and commit policies/bundle.tar.gz',
      );
    });

    it('has the same manifest revision, a digest of the sources', () => {
      assert.match(revision, /^sha256:[0-9a-f]{64}$/);
      assert.equal(manifest(rebuilt).revision, revision);
      assert.equal(manifest(committed).revision, revision);
    });

    it('is the same archive, byte for byte', () => {
      assert.ok(committedBytes.equals(rebuiltBytes));
    });
  });

  describe('#manifest', () => {
    it('lists the provgate/decision entrypoint in /policy.wasm', () => {
      assert.deepEqual(
        manifest(committed).wasm.map(({ entrypoint, module }) => ({ entrypoint, module })),
        [{ entrypoint: 'provgate/decision', module: '/policy.wasm' }],
      );
    });

    it('owns the provgate root and is Rego v1', () => {
      assert.deepEqual(manifest(committed).roots, ['provgate']);
      assert.equal(manifest(committed).rego_version, 1);
    });
  });

  describe('#files', () => {
    it('ships the default parameters of policies/src/data.json as /data.json', async () => {
      const source: unknown = JSON.parse(
        await readFile(join(POLICIES, 'src', 'data.json'), 'utf8'),
      );
      assert.deepEqual(JSON.parse(committed.get('data.json')?.toString('utf8') ?? 'null'), source);
    });

    it('leaves the Rego unit tests out', () => {
      const tests = [...committed.keys()].filter((path) => path.endsWith('_test.rego'));
      assert.deepEqual(tests, []);
    });
  });

  describe('#policy.wasm', () => {
    it('imports no builtin beyond those provgate supplies', async () => {
      const policy = await loadPolicy(committed.get('policy.wasm')!);
      const imported = importedBuiltins(policy);
      assert.deepEqual(
        imported.filter((name) => !HOST_BUILTINS.includes(name)),
        [],
      );
    });
  });
});
