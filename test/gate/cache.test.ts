import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VerificationCache } from '../../src/gate/index.ts';

function cache(maxEntries = 2, ttlMs = 1000) {
  let clock = 0;
  const c = new VerificationCache<string>({ maxEntries, ttlMs, now: () => clock });
  return { c, advance: (ms: number) => (clock += ms) };
}

const always = () => true;

describe('VerificationCache', () => {
  describe('#get', () => {
    it('collapses identical work in flight into one computation', async () => {
      const { c } = cache();
      let calls = 0;
      let release!: (v: string) => void;
      const compute = () => {
        calls++;
        return new Promise<string>((r) => (release = r));
      };
      const a = c.get('k', compute, always);
      const b = c.get('k', compute, always);
      release('v');
      assert.deepEqual(await Promise.all([a, b]), ['v', 'v']);
      assert.equal(calls, 1);
      assert.equal(c.stats.collapsed, 1);
    });

    it('does not cache a rejection, and the next call computes again', async () => {
      const { c } = cache();
      await assert.rejects(c.get('k', () => Promise.reject(new Error('boom')), always));
      assert.equal(await c.get('k', () => Promise.resolve('ok'), always), 'ok');
      assert.equal(c.stats.misses, 2);
    });

    it('does not cache a value the caller says is not cacheable', async () => {
      const { c } = cache();
      await c.get(
        'k',
        () => Promise.resolve('failed'),
        () => false,
      );
      await c.get(
        'k',
        () => Promise.resolve('failed'),
        () => false,
      );
      assert.equal(c.stats.hits, 0);
    });

    it('expires entries after the TTL', async () => {
      const { c, advance } = cache(2, 1000);
      await c.get('k', () => Promise.resolve('v1'), always);
      advance(999);
      assert.equal(await c.get('k', () => Promise.resolve('v2'), always), 'v1');
      advance(2);
      assert.equal(await c.get('k', () => Promise.resolve('v3'), always), 'v3');
    });

    it('evicts the least recently used entry beyond the bound', async () => {
      const { c } = cache(2);
      await c.get('a', () => Promise.resolve('a'), always);
      await c.get('b', () => Promise.resolve('b'), always);
      await c.get('a', () => Promise.resolve('a2'), always); // a is now most recent
      await c.get('c', () => Promise.resolve('c'), always); // evicts b
      assert.equal(c.stats.size, 2);
      assert.equal(await c.get('a', () => Promise.resolve('a3'), always), 'a');
      assert.equal(await c.get('b', () => Promise.resolve('b2'), always), 'b2');
    });

    it('stores nothing when disabled (maxEntries 0)', async () => {
      const { c } = cache(0);
      await c.get('k', () => Promise.resolve('v'), always);
      assert.equal(await c.get('k', () => Promise.resolve('v2'), always), 'v2');
    });
  });
});
