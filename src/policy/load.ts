// The fs edge of the policy engine: reads a bundle (.tar.gz file or directory)
// from disk under the bundle limits. Everything it reads goes through the same
// checks as an archive (archive.ts, bundle.ts).

import { constants, type Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { FileCollector, normalizeBundlePath } from './archive.ts';
import { loadBundle, type BundleSource, type LoadOptions, type LoadedBundle } from './bundle.ts';
import { PolicyError, describeThrown } from './error.ts';
import { DEFAULT_BUNDLE_LIMITS, type BundleLimits } from './limits.ts';

/** Reads and loads the bundle at `path` (a .tar.gz file or a bundle directory). */
export async function loadBundleFromPath(
  path: string,
  options: LoadOptions = {},
): Promise<LoadedBundle> {
  return loadBundle(await readBundleSource(path, options.limits), options);
}

/**
 * Reads the bytes of a bundle. The configured path itself may be a symlink
 * (a Kubernetes ConfigMap mount is one); inside a directory bundle, links and
 * other non-regular files are refused.
 */
export async function readBundleSource(
  path: string,
  overrides: Partial<BundleLimits> = {},
): Promise<BundleSource> {
  const limits: BundleLimits = { ...DEFAULT_BUNDLE_LIMITS, ...overrides };
  const info = await fsCall(() => stat(path), path);
  if (info.isDirectory()) return { kind: 'files', files: await readDirectory(path, limits) };
  if (!info.isFile())
    throw new PolicyError('BUNDLE_READ_FAILED', `bundle path ${path} is not a file or directory`);
  const bytes = await readRegularFile(path, limits.maxArchiveBytes, 'BUNDLE_TOO_LARGE', true);
  return { kind: 'archive', bytes };
}

async function readDirectory(
  root: string,
  limits: BundleLimits,
): Promise<ReadonlyMap<string, Uint8Array>> {
  const files = new FileCollector(limits);
  const pending = [''];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    const entries = await fsCall(
      () => readdir(join(root, dir), { withFileTypes: true }),
      join(root, dir),
    );
    for (const entry of entries) {
      files.countEntry();
      const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
      const path = normalizeBundlePath(rel, limits);
      if (entry.isDirectory()) {
        pending.push(path);
      } else if (entry.isFile()) {
        files.add(
          path,
          await readRegularFile(join(root, path), limits.maxFileBytes, 'BUNDLE_FILE_TOO_LARGE'),
        );
      } else {
        // A symlink could point outside the bundle, a fifo could block the read.
        throw new PolicyError(
          'BUNDLE_ENTRY_TYPE',
          `bundle entry ${path} is not a regular file or directory`,
        );
      }
    }
  }
  return files.result();
}

// fstat on the open descriptor: the file checked is the file read. Inside a
// directory bundle, O_NOFOLLOW: a file swapped for a link after readdir is refused.
async function readRegularFile(
  path: string,
  maxBytes: number,
  code: 'BUNDLE_TOO_LARGE' | 'BUNDLE_FILE_TOO_LARGE',
  followLink = false,
): Promise<Uint8Array> {
  const flags = constants.O_RDONLY | (followLink ? 0 : constants.O_NOFOLLOW);
  const handle = await fsCall(() => open(path, flags), path);
  try {
    const info: Stats = await handle.stat();
    if (!info.isFile()) throw new PolicyError('BUNDLE_ENTRY_TYPE', `${path} is not a regular file`);
    if (info.size > maxBytes) {
      throw new PolicyError(code, `${path} is ${info.size} bytes, over the limit of ${maxBytes}`);
    }
    // Read at most one byte past the limit, in case the file grew after fstat.
    const buffer = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
    let read = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, read, buffer.byteLength - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
      if (read === buffer.byteLength) break;
    }
    if (read > maxBytes)
      throw new PolicyError(code, `${path} is over the limit of ${maxBytes} bytes`);
    return buffer.subarray(0, read);
  } catch (err) {
    if (err instanceof PolicyError) throw err;
    throw new PolicyError('BUNDLE_READ_FAILED', `cannot read ${path}: ${describeThrown(err)}`, err);
  } finally {
    await handle.close();
  }
}

async function fsCall<T>(fn: () => Promise<T>, path: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ELOOP') {
      throw new PolicyError('BUNDLE_ENTRY_TYPE', `${path} is a symbolic link`, err);
    }
    throw new PolicyError('BUNDLE_READ_FAILED', `cannot read ${path}: ${describeThrown(err)}`, err);
  }
}
