import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';

import fc from 'fast-check';

import {
  DECISION_ENTRYPOINT,
  createEngine,
  loadBundle,
  loadBundleFromPath,
  paramsDataPath,
  type LoadOptions,
} from '../../src/policy/index.ts';
import { isPolicyError } from '../../src/policy/error.ts';
import { parseManifest } from '../../src/policy/manifest.ts';
import { mergeParams } from '../../src/policy/params.ts';
import { buildBundle, fixture, tempDir, untar } from './opa.ts';
import { rejectsCode, throwsCode } from './support.ts';

const NOW = { nowNs: 1_735_689_600_000_000_000n };

function withFiles(
  base: ReadonlyMap<string, Uint8Array>,
  changes: Record<string, string | Uint8Array | null>,
): Map<string, Uint8Array> {
  const files = new Map(base);
  for (const [path, content] of Object.entries(changes)) {
    if (content === null) files.delete(path);
    else files.set(path, typeof content === 'string' ? Buffer.from(content) : content);
  }
  return files;
}

const load = (files: ReadonlyMap<string, Uint8Array>, options?: LoadOptions) =>
  loadBundle({ kind: 'files', files }, options);

describe('loadBundle', () => {
  let archive: Buffer;
  let files: Map<string, Buffer>;

  before(async () => {
    archive = await buildBundle(fixture('contract'), { revision: 'r1' });
    files = await untar(archive);
  });

  describe('when the bundle is a stock `opa build -t wasm` archive', () => {
    it('loads it with its revision, files and required builtins', async () => {
      const bundle = await loadBundle({ kind: 'archive', bytes: archive });
      assert.equal(bundle.revision, 'r1');
      assert.deepEqual(bundle.files, ['.manifest', 'data.json', 'policy.rego', 'policy.wasm']);
      assert.deepEqual(bundle.requiredBuiltins, ['time.now_ns']);
      assert.deepEqual(bundle.manifest.wasm, [
        { entrypoint: DECISION_ENTRYPOINT, module: '/policy.wasm' },
      ]);
      assert.equal(bundle.signature, undefined);
      assert.match(bundle.digest, /^sha256:[0-9a-f]{64}$/);
    });

    it('gives the same digest when read from the same files in a directory', async () => {
      const dir = await tempDir();
      for (const [path, content] of files) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), content);
      }
      const fromArchive = await loadBundle({ kind: 'archive', bytes: archive });
      const fromDir = await loadBundleFromPath(dir);
      assert.equal(fromDir.digest, fromArchive.digest);
      assert.equal(fromDir.revision, 'r1');
    });
  });

  describe('when /policy.wasm is missing', () => {
    it('throws BUNDLE_WASM_MISSING', async () => {
      await rejectsCode(load(withFiles(files, { 'policy.wasm': null })), 'BUNDLE_WASM_MISSING');
    });
  });

  describe('when /policy.wasm is not a wasm module', () => {
    it('throws BUNDLE_WASM_INVALID', async () => {
      await rejectsCode(
        load(withFiles(files, { 'policy.wasm': 'not wasm' })),
        'BUNDLE_WASM_INVALID',
      );
    });
  });

  describe('when /.manifest is missing', () => {
    it('throws MANIFEST_MISSING', async () => {
      await rejectsCode(load(withFiles(files, { '.manifest': null })), 'MANIFEST_MISSING');
    });
  });

  describe('when the manifest is not JSON', () => {
    it('throws MANIFEST_INVALID', async () => {
      await rejectsCode(
        load(withFiles(files, { '.manifest': '{"revision": ' })),
        'MANIFEST_INVALID',
      );
    });
  });

  const manifest = (m: Record<string, unknown>) => ({
    '.manifest': JSON.stringify({
      revision: 'r',
      roots: [''],
      wasm: [{ entrypoint: DECISION_ENTRYPOINT, module: '/policy.wasm' }],
      ...m,
    }),
  });

  const manifestCases: [string, Record<string, unknown>, string][] = [
    ['the revision is not a string', { revision: 7 }, 'MANIFEST_INVALID'],
    ['the roots are not strings', { roots: [1] }, 'MANIFEST_INVALID'],
    ['two roots overlap', { roots: ['provgate', 'provgate/x'] }, 'MANIFEST_INVALID'],
    ['wasm is not an array', { wasm: {} }, 'MANIFEST_INVALID'],
    [
      'a wasm entry names another module',
      { wasm: [{ entrypoint: DECISION_ENTRYPOINT, module: '/other.wasm' }] },
      'MANIFEST_INVALID',
    ],
    [
      'an entrypoint lies outside the roots',
      { roots: ['elsewhere'], wasm: [{ entrypoint: DECISION_ENTRYPOINT, module: '/policy.wasm' }] },
      'MANIFEST_INVALID',
    ],
    [
      'an entrypoint is listed twice',
      {
        wasm: [
          { entrypoint: DECISION_ENTRYPOINT, module: '/policy.wasm' },
          { entrypoint: DECISION_ENTRYPOINT, module: '/policy.wasm' },
        ],
      },
      'MANIFEST_INVALID',
    ],
    [
      'provgate/decision is not listed',
      { wasm: [{ entrypoint: 'provgate/other', module: '/policy.wasm' }] },
      'ENTRYPOINT_MISSING',
    ],
    ['there is no wasm list', { wasm: undefined }, 'ENTRYPOINT_MISSING'],
  ];
  for (const [when, m, code] of manifestCases) {
    describe(`when ${when}`, () => {
      it(`throws ${code}`, async () => {
        await rejectsCode(load(withFiles(files, manifest(m))), code as 'MANIFEST_INVALID');
      });
    });
  }

  describe('when data.json lies outside the manifest roots', () => {
    it('throws MANIFEST_INVALID', async () => {
      const changed = withFiles(files, {
        ...manifest({ roots: ['provgate'] }),
        'data.json': '{"provgate": {"a": 1}, "other": {"b": 2}}',
      });
      await rejectsCode(load(changed), 'MANIFEST_INVALID');
    });
  });

  describe('when data.json lies inside the manifest roots', () => {
    it('loads', async () => {
      const changed = withFiles(files, {
        ...manifest({ roots: ['provgate'] }),
        'data.json': '{"provgate": {"a": 1}}',
      });
      assert.equal((await load(changed)).revision, 'r');
    });
  });

  const dataCases: [string, string][] = [
    ['not JSON', '{"a": '],
    ['not an object', '[1, 2]'],
    ['nested too deep', '{"a":'.repeat(200) + '1' + '}'.repeat(200)],
    ['not UTF-8', '\xff'],
  ];
  for (const [when, data] of dataCases) {
    describe(`when data.json is ${when}`, () => {
      it('throws BUNDLE_DATA_INVALID', async () => {
        const bytes = when === 'not UTF-8' ? Buffer.from([0xff, 0xfe]) : Buffer.from(data);
        await rejectsCode(load(withFiles(files, { 'data.json': bytes })), 'BUNDLE_DATA_INVALID');
      });
    });
  }

  describe('when the bundle holds a file provgate does not use', () => {
    for (const path of ['notes.txt', 'sub/data.json', 'plan.json', 'data.yaml', 'x/policy.wasm']) {
      it(`throws BUNDLE_UNEXPECTED_FILE for ${path}`, async () => {
        await rejectsCode(load(withFiles(files, { [path]: '{}' })), 'BUNDLE_UNEXPECTED_FILE');
      });
    }
  });

  describe('when a path is not in normal form', () => {
    it('throws BUNDLE_PATH_INVALID', async () => {
      await rejectsCode(load(withFiles(files, { '/data.json': '{}' })), 'BUNDLE_PATH_INVALID');
    });
  });

  describe('when the wasm module lacks the entrypoint the manifest lists', () => {
    it('throws ENTRYPOINT_MISSING', async () => {
      // Compiled for the package only; the manifest is then edited to claim provgate/decision.
      const other = await untar(
        await buildBundle(fixture('contract'), { entrypoints: ['provgate'] }),
      );
      await rejectsCode(load(withFiles(other, manifest({}))), 'ENTRYPOINT_MISSING');
    });
  });

  describe('when the policy calls a builtin provgate cannot supply', () => {
    it('refuses the bundle at load time with BUILTIN_UNSUPPORTED naming the builtin', async () => {
      const bytes = await buildBundle(fixture('missing-builtin'));
      await assert.rejects(loadBundle({ kind: 'archive', bytes }), (err: unknown) => {
        assert.ok(isPolicyError(err));
        assert.equal(err.code, 'BUILTIN_UNSUPPORTED');
        assert.match(err.message, /uuid\.rfc4122/);
        return true;
      });
    });
  });
});

describe('parameters', () => {
  it(`are documented at ${paramsDataPath()}`, () => {
    assert.equal(paramsDataPath(), 'data.provgate.params');
  });

  describe('when merged into a bundle that ships defaults', () => {
    it('merges objects deeply, lets configured values win and keeps other data', async () => {
      const bytes = await buildBundle(fixture('params'));
      const bundle = await loadBundle(
        { kind: 'archive', bytes },
        { params: { nested: { y: 3, z: 4 }, list: [9], extra: true } },
      );
      const decision = createEngine(bundle).evaluate({}, NOW);
      assert.equal(decision.allow, true);
      assert.deepEqual(JSON.parse(decision.warn[0] ?? 'null'), {
        allowed_sources: ['github.com/a/b'],
        nested: { x: 1, y: 3, z: 4 },
        list: [9],
        extra: true,
      });
    });
  });

  describe('#mergeParams', () => {
    it('leaves its arguments unchanged and keeps data outside the params path', () => {
      const data = { provgate: { params: { a: { b: 1 } }, other: 'kept' }, top: 1 };
      const params = { a: { c: 2 } };
      const merged = mergeParams(data, params, 16);
      assert.deepEqual(merged, {
        provgate: { params: { a: { b: 1, c: 2 } }, other: 'kept' },
        top: 1,
      });
      assert.deepEqual(data, { provgate: { params: { a: { b: 1 } }, other: 'kept' }, top: 1 });
      assert.deepEqual(params, { a: { c: 2 } });
    });

    it('keeps a "__proto__" key as data and does not touch prototypes', () => {
      const params = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
      const merged = mergeParams({}, params, 16);
      const got = (merged['provgate'] as Record<string, Record<string, unknown>>)['params'];
      assert.ok(got !== undefined && Object.hasOwn(got, '__proto__'));
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    });

    const invalid: [string, Record<string, unknown>, unknown][] = [
      ['the parameters are not an object', {}, ['a']],
      ['a parameter is not JSON', {}, { f: () => 1 }],
      ['a parameter is not a finite number', {}, { n: Number.NaN }],
      ['data.provgate is not an object', { provgate: 'x' }, {}],
      ['data.provgate.params is not an object', { provgate: { params: [1] } }, {}],
    ];
    for (const [when, data, params] of invalid) {
      describe(`when ${when}`, () => {
        it('throws PARAMS_INVALID', () => {
          throwsCode(() => mergeParams(data as never, params, 16), 'PARAMS_INVALID');
        });
      });
    }
  });
});

describe('parseManifest', () => {
  it('lets only coded errors escape on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseManifest(value);
        } catch (err) {
          if (!isPolicyError(err)) throw err;
        }
        return true;
      }),
      { numRuns: 1000 },
    );
  });
});
