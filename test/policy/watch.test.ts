import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import {
  createEngine,
  loadBundleFromPath,
  watchBundle,
  type PolicyLogEvent,
} from '../../src/policy/index.ts';
import { buildBundle, fixture, tempDir, untar } from './opa.ts';
import { eventually } from './support.ts';

const NOW = { nowNs: 1_735_689_600_000_000_000n };

// Replace the file in one step, as a deployment would (write aside, rename over).
async function replaceFile(path: string, content: Uint8Array | string): Promise<void> {
  await writeFile(`${path}.tmp`, content);
  await rename(`${path}.tmp`, path);
}

describe('watchBundle', () => {
  let w1: Buffer;
  let w2: Buffer;
  let badShape: Buffer;

  before(async () => {
    [w1, w2, badShape] = await Promise.all([
      buildBundle(fixture('contract'), { revision: 'w1' }),
      buildBundle(fixture('contract'), { revision: 'w2' }),
      buildBundle(fixture('bad-shape'), { revision: 'bad' }),
    ]);
  });

  describe('when the .tar.gz file is replaced (fs.watch, no polling)', () => {
    it('activates a good bundle, keeps the last good one on failures, and counts both', async () => {
      const path = join(await tempDir(), 'bundle.tar.gz');
      await writeFile(path, w1);
      const engine = createEngine(await loadBundleFromPath(path));
      const events: PolicyLogEvent[] = [];
      const watcher = watchBundle(engine, path, {
        debounceMs: 20,
        pollIntervalMs: 0,
        logger: (e) => events.push(e),
      });
      try {
        assert.equal(engine.revision, 'w1');

        await replaceFile(path, w2);
        await eventually(() => engine.revision === 'w2', 'revision w2 to become active');
        assert.equal(engine.stats().reloads, 1);
        assert.equal(engine.evaluate({ case: 'allow' }, NOW).revision, 'w2');
        assert.ok(events.some((e) => e.event === 'policy.reloaded' && e.revision === 'w2'));

        // not a bundle at all
        await replaceFile(path, 'garbage');
        await eventually(
          () => engine.stats().reloadFailures === 1,
          'the first failure to be counted',
        );
        assert.equal(engine.revision, 'w2');
        const d = engine.evaluate({ case: 'allow' }, NOW);
        assert.equal(d.allow, true);
        assert.equal(d.revision, 'w2');
        const failure = events.find((e) => e.event === 'policy.reload_failed');
        assert.equal(failure?.code, 'BUNDLE_ARCHIVE_INVALID');
        assert.equal(failure?.level, 'error');

        // a bundle that loads but fails its smoke evaluation
        await replaceFile(path, badShape);
        await eventually(
          () => engine.stats().reloadFailures === 2,
          'the second failure to be counted',
        );
        assert.equal(engine.revision, 'w2');
        assert.equal(engine.stats().lastReloadError?.code, 'SMOKE_TEST_FAILED');

        // and back to a good one
        await replaceFile(path, w1);
        await eventually(() => engine.revision === 'w1', 'revision w1 to become active again');
        assert.equal(engine.stats().reloads, 2);
      } finally {
        watcher.close();
      }
    });
  });

  describe('when a directory bundle changes (polling)', () => {
    it('activates the new revision', async () => {
      const dir = await tempDir();
      const files = await untar(w1);
      for (const [name, content] of files) await writeFile(join(dir, name), content);
      const engine = createEngine(await loadBundleFromPath(dir));
      const watcher = watchBundle(engine, dir, { debounceMs: 20, pollIntervalMs: 50 });
      try {
        const manifest = JSON.parse(files.get('.manifest')?.toString() ?? '{}') as Record<
          string,
          unknown
        >;
        await replaceFile(
          join(dir, '.manifest'),
          JSON.stringify({ ...manifest, revision: 'dir-2' }),
        );
        await eventually(() => engine.revision === 'dir-2', 'revision dir-2 to become active');
      } finally {
        watcher.close();
      }
    });
  });

  describe('#check', () => {
    describe('when the bytes on disk have not changed', () => {
      it('reports unchanged and neither reloads nor fails', async () => {
        const path = join(await tempDir(), 'bundle.tar.gz');
        await writeFile(path, w1);
        const engine = createEngine(await loadBundleFromPath(path));
        const watcher = watchBundle(engine, path, { pollIntervalMs: 0 });
        try {
          assert.equal((await watcher.check()).status, 'unchanged');
          assert.equal((await watcher.check()).status, 'unchanged');
          assert.equal(engine.stats().reloads, 0);
          assert.equal(engine.stats().reloadFailures, 0);
        } finally {
          watcher.close();
        }
      });
    });
  });
});
