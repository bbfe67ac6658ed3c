import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { localStore } from '../../src/discover/index.ts';

const digest = 'ab'.repeat(32);
const artifact = { name: 'x', digests: { sha256: digest } };
const signal = new AbortController().signal;
const texts = async (store: ReturnType<typeof localStore>) =>
  (await store.discover(artifact, signal)).map(
    (d) => `${d.source}=${Buffer.from(d.bytes).toString('utf8')}`,
  );

describe('localStore', () => {
  it('finds the files of the digest folder, in name order, and none for other digests', async () => {
    const root = mkdtempSync(join(tmpdir(), 'provgate-store-'));
    mkdirSync(join(root, `sha256-${digest}`));
    writeFileSync(join(root, `sha256-${digest}`, 'b.json'), 'B');
    writeFileSync(join(root, `sha256-${digest}`, 'a.json'), 'A');
    const store = localStore(root);
    assert.deepEqual(await texts(store), [
      `store:sha256-${digest}/a.json=A`,
      `store:sha256-${digest}/b.json=B`,
    ]);
    assert.deepEqual(
      await store.discover({ name: 'y', digests: { sha256: 'cd'.repeat(32) } }, signal),
      [],
    );
  });

  it('sees files added, changed and removed after a first read', async () => {
    const root = mkdtempSync(join(tmpdir(), 'provgate-store-'));
    const dir = join(root, `sha256-${digest}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.json'), 'A');
    const store = localStore(root);
    assert.deepEqual(await texts(store), [`store:sha256-${digest}/a.json=A`]);
    writeFileSync(join(dir, 'a.json'), 'A2 longer');
    writeFileSync(join(dir, 'c.json'), 'C');
    assert.deepEqual(await texts(store), [
      `store:sha256-${digest}/a.json=A2 longer`,
      `store:sha256-${digest}/c.json=C`,
    ]);
    rmSync(join(dir, 'a.json'));
    assert.deepEqual(await texts(store), [`store:sha256-${digest}/c.json=C`]);
    rmSync(dir, { recursive: true });
    assert.deepEqual(await texts(store), []);
  });
});
