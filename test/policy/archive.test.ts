// The adversarial suite for bundle reading: hostile archives and directories.

import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';

import fc from 'fast-check';

import { readArchive } from '../../src/policy/archive.ts';
import { isPolicyError } from '../../src/policy/error.ts';
import {
  DEFAULT_BUNDLE_LIMITS,
  readBundleSource,
  type BundleLimits,
} from '../../src/policy/index.ts';
import { tarGz, tempDir, type TarEntry } from './opa.ts';
import { rejectsCode } from './support.ts';

const limits = (overrides: Partial<BundleLimits> = {}): BundleLimits => ({
  ...DEFAULT_BUNDLE_LIMITS,
  ...overrides,
});

const read = async (entries: readonly TarEntry[], overrides?: Partial<BundleLimits>) =>
  readArchive(await tarGz(entries), limits(overrides));

describe('readArchive', () => {
  describe('when paths use the prefixes OPA and tar write for the bundle root', () => {
    it('reads "/x" and "./x" as x, and skips directory entries', async () => {
      const files = await read([
        { name: '/data.json', content: '{}' },
        { name: './policy.wasm', content: 'w' },
        { name: 'src/', type: 'directory' },
        { name: 'src/a.rego', content: 'package a' },
      ]);
      assert.deepEqual([...files.keys()], ['data.json', 'policy.wasm', 'src/a.rego']);
      assert.equal(Buffer.from(files.get('src/a.rego') ?? []).toString(), 'package a');
    });
  });

  describe('when a path escapes the bundle root', () => {
    const hostile = [
      '../evil.rego',
      'a/../../evil.rego',
      'a/./b.rego',
      '//etc/passwd',
      'a//b.rego',
      'C:/evil.rego',
      'a\\..\\evil.rego',
      'a\tb.rego',
      '..',
    ];
    for (const name of hostile) {
      it(`throws BUNDLE_PATH_INVALID for ${JSON.stringify(name)}`, async () => {
        await rejectsCode(read([{ name, content: 'x' }]), 'BUNDLE_PATH_INVALID');
      });
    }
    it('throws BUNDLE_PATH_INVALID for a path over the length limit', async () => {
      await rejectsCode(
        read([{ name: `${'a'.repeat(300)}.rego`, content: 'x' }], { maxPathLength: 100 }),
        'BUNDLE_PATH_INVALID',
      );
    });
  });

  describe('when an entry is not a regular file', () => {
    for (const type of ['symlink', 'link', 'fifo'] as const) {
      it(`throws BUNDLE_ENTRY_TYPE for a ${type}`, async () => {
        await rejectsCode(
          read([{ name: 'data.json', type, linkname: '/etc/passwd' }]),
          'BUNDLE_ENTRY_TYPE',
        );
      });
    }
  });

  describe('when two entries name the same file', () => {
    it('throws BUNDLE_DUPLICATE_ENTRY', async () => {
      await rejectsCode(
        read([
          { name: '/data.json', content: '{}' },
          { name: './data.json', content: '{"evil": true}' },
        ]),
        'BUNDLE_DUPLICATE_ENTRY',
      );
    });
  });

  describe('when there are more entries than allowed', () => {
    it('throws BUNDLE_TOO_MANY_ENTRIES', async () => {
      const entries = Array.from({ length: 5 }, (_, i) => ({
        name: `d${i}/`,
        type: 'directory' as const,
      }));
      await rejectsCode(read(entries, { maxEntries: 4 }), 'BUNDLE_TOO_MANY_ENTRIES');
    });
  });

  describe('when a file is over the per-file limit', () => {
    it('throws BUNDLE_FILE_TOO_LARGE', async () => {
      await rejectsCode(
        read([{ name: 'data.json', content: 'x'.repeat(11) }], { maxFileBytes: 10 }),
        'BUNDLE_FILE_TOO_LARGE',
      );
    });
  });

  describe('when the files together are over the total limit', () => {
    it('throws BUNDLE_TOO_LARGE', async () => {
      const entries = Array.from({ length: 4 }, (_, i) => ({
        name: `f${i}.rego`,
        content: 'x'.repeat(8),
      }));
      await rejectsCode(read(entries, { maxFileBytes: 10, maxTotalBytes: 30 }), 'BUNDLE_TOO_LARGE');
    });
  });

  describe('when the compressed archive is over its limit', () => {
    it('throws BUNDLE_TOO_LARGE', async () => {
      await rejectsCode(
        read([{ name: 'data.json', content: '{}' }], { maxArchiveBytes: 10 }),
        'BUNDLE_TOO_LARGE',
      );
    });
  });

  describe('when the archive is a decompression bomb', () => {
    it('throws BUNDLE_TOO_LARGE before inflating it', async () => {
      // 64 MiB of zeros compress to ~64 KiB.
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
      assert.ok(bomb.byteLength < 1024 * 1024);
      await rejectsCode(
        readArchive(bomb, limits({ maxTotalBytes: 1024 * 1024, maxFileBytes: 1024 * 1024 })),
        'BUNDLE_TOO_LARGE',
      );
    });
  });

  describe('when the bytes are not gzip', () => {
    it('throws BUNDLE_ARCHIVE_INVALID', async () => {
      await rejectsCode(readArchive(Buffer.from('plain text'), limits()), 'BUNDLE_ARCHIVE_INVALID');
    });
  });

  describe('when the gzip is truncated', () => {
    it('throws BUNDLE_ARCHIVE_INVALID', async () => {
      const archive = await tarGz([{ name: 'data.json', content: '{}' }]);
      await rejectsCode(
        readArchive(archive.subarray(0, archive.byteLength - 12), limits()),
        'BUNDLE_ARCHIVE_INVALID',
      );
    });
  });

  describe('when the gzip holds no tar', () => {
    it('throws BUNDLE_ARCHIVE_INVALID', async () => {
      await rejectsCode(
        readArchive(gzipSync(Buffer.from('x'.repeat(1024))), limits()),
        'BUNDLE_ARCHIVE_INVALID',
      );
    });
  });

  describe('on arbitrary bytes', () => {
    const onlyCoded = async (bytes: Uint8Array): Promise<boolean> => {
      try {
        await readArchive(bytes, limits({ maxTotalBytes: 1 << 20 }));
      } catch (err) {
        if (!isPolicyError(err)) throw err;
      }
      return true;
    };
    it('lets only coded errors escape (raw bytes)', async () => {
      await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), onlyCoded), {
        numRuns: 300,
      });
    });
    it('lets only coded errors escape (gzipped bytes)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), (b) => onlyCoded(gzipSync(b))),
        { numRuns: 300 },
      );
    });
  });
});

describe('readBundleSource', () => {
  describe('when a directory bundle holds a symbolic link', () => {
    it('throws BUNDLE_ENTRY_TYPE instead of following it', async () => {
      const dir = await tempDir();
      await writeFile(join(dir, 'policy.wasm'), 'w');
      await symlink('/etc/passwd', join(dir, 'data.json'));
      await rejectsCode(readBundleSource(dir), 'BUNDLE_ENTRY_TYPE');
    });
  });

  describe('when a directory bundle is over the entry limit', () => {
    it('throws BUNDLE_TOO_MANY_ENTRIES', async () => {
      const dir = await tempDir();
      for (let i = 0; i < 5; i++) await mkdir(join(dir, `d${i}`));
      await rejectsCode(readBundleSource(dir, { maxEntries: 4 }), 'BUNDLE_TOO_MANY_ENTRIES');
    });
  });

  describe('when a file in a directory bundle is over the per-file limit', () => {
    it('throws BUNDLE_FILE_TOO_LARGE', async () => {
      const dir = await tempDir();
      await writeFile(join(dir, 'data.json'), 'x'.repeat(100));
      await rejectsCode(readBundleSource(dir, { maxFileBytes: 10 }), 'BUNDLE_FILE_TOO_LARGE');
    });
  });

  describe('when the archive file is over the archive limit', () => {
    it('throws BUNDLE_TOO_LARGE', async () => {
      const path = join(await tempDir(), 'bundle.tar.gz');
      await writeFile(path, Buffer.alloc(100));
      await rejectsCode(readBundleSource(path, { maxArchiveBytes: 10 }), 'BUNDLE_TOO_LARGE');
    });
  });

  describe('when the path does not exist', () => {
    it('throws BUNDLE_READ_FAILED', async () => {
      await rejectsCode(
        readBundleSource(join(await tempDir(), 'missing.tar.gz')),
        'BUNDLE_READ_FAILED',
      );
    });
  });

  describe('when the configured path is itself a symlink to the archive', () => {
    it('follows it (a ConfigMap mount is one)', async () => {
      const dir = await tempDir();
      await writeFile(join(dir, 'real.tar.gz'), 'bytes');
      await symlink(join(dir, 'real.tar.gz'), join(dir, 'bundle.tar.gz'));
      const source = await readBundleSource(join(dir, 'bundle.tar.gz'));
      assert.equal(source.kind, 'archive');
    });
  });
});
