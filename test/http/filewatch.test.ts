import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, symlinkSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { watchFiles } from '../../src/http/filewatch.ts';

function changed(paths: string[], pollMs: number) {
  let resolve!: () => void;
  const seen = new Promise<void>((r) => (resolve = r));
  const w = watchFiles(paths, resolve, pollMs);
  return { seen, close: () => w.close() };
}

async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no change seen within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('watchFiles', () => {
  it('notices a file rewritten in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provgate-watch-'));
    const f = join(dir, 'tokens');
    writeFileSync(f, 'a');
    const w = changed([f], 60_000);
    writeFileSync(f, 'b');
    try {
      await within(w.seen, 5000);
    } finally {
      w.close();
    }
  });

  it('notices a Kubernetes-style symlink swap through its poll', async () => {
    // kubelet: data -> ..2026_a; update writes ..2026_b and renames a new link over data.
    const dir = mkdtempSync(join(tmpdir(), 'provgate-watch-'));
    writeFileSync(join(dir, 'a.crt'), 'first');
    writeFileSync(join(dir, 'b.crt'), 'second');
    symlinkSync(join(dir, 'a.crt'), join(dir, 'tls.crt'));
    const w = changed([join(dir, 'tls.crt')], 100);
    symlinkSync(join(dir, 'b.crt'), join(dir, 'tls.crt.new'));
    renameSync(join(dir, 'tls.crt.new'), join(dir, 'tls.crt'));
    unlinkSync(join(dir, 'a.crt'));
    try {
      await within(w.seen, 5000);
    } finally {
      w.close();
    }
  });

  it('stays quiet when nothing changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provgate-watch-'));
    const f = join(dir, 'tokens');
    writeFileSync(f, 'a');
    const w = changed([f], 50);
    try {
      await assert.rejects(within(w.seen, 400), /no change seen/);
    } finally {
      w.close();
    }
  });
});
