// Reading a bundle's file set: a gzipped tar (the bytes; the fs edge reads
// them) with every bound applied while reading, and the path rules shared with
// directory bundles (load.ts). Only regular files are kept: a link or device
// entry is refused, never followed.

import { gunzipSync } from 'node:zlib';

import tar from 'tar-stream';

import { PolicyError, describeThrown } from './error.ts';
import type { BundleLimits } from './limits.ts';

/** A bundle's files by path relative to the bundle root, without a leading slash. */
export type BundleFiles = ReadonlyMap<string, Uint8Array>;

// tar header + a pax/GNU long-name header + padding, per entry, on top of file sizes.
const TAR_OVERHEAD_PER_ENTRY = 3 * 512;

/** Extracts a .tar.gz bundle into memory. */
export async function readArchive(bytes: Uint8Array, limits: BundleLimits): Promise<BundleFiles> {
  if (bytes.byteLength > limits.maxArchiveBytes) {
    throw new PolicyError(
      'BUNDLE_TOO_LARGE',
      `bundle archive is ${bytes.byteLength} bytes, over the limit of ${limits.maxArchiveBytes}`,
    );
  }
  if (bytes.byteLength < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw new PolicyError('BUNDLE_ARCHIVE_INVALID', 'bundle archive is not gzip-compressed');
  }
  let tarBytes: Buffer;
  try {
    // maxOutputLength stops a decompression bomb before it is inflated.
    tarBytes = gunzipSync(bytes, {
      maxOutputLength: limits.maxTotalBytes + (limits.maxEntries + 2) * TAR_OVERHEAD_PER_ENTRY,
    });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PolicyError(
        'BUNDLE_TOO_LARGE',
        `bundle archive inflates past the limit of ${limits.maxTotalBytes} bytes`,
        err,
      );
    }
    throw new PolicyError(
      'BUNDLE_ARCHIVE_INVALID',
      `bundle archive is not valid gzip: ${describeThrown(err)}`,
      err,
    );
  }

  const files = new FileCollector(limits);
  const extract = tar.extract();
  extract.end(tarBytes);
  try {
    for await (const entry of extract) {
      const { name, type, size } = entry.header;
      files.countEntry();
      const path = normalizeBundlePath(name, limits);
      switch (type) {
        case 'directory':
          entry.resume();
          break;
        case 'file':
        case undefined:
        case null: {
          files.checkSize(path, size ?? 0);
          const chunks: Buffer[] = [];
          let read = 0;
          for await (const chunk of entry) {
            read += (chunk as Buffer).byteLength;
            files.checkSize(path, read);
            chunks.push(chunk as Buffer);
          }
          files.add(path, Buffer.concat(chunks));
          break;
        }
        default:
          throw new PolicyError(
            'BUNDLE_ENTRY_TYPE',
            `bundle entry ${path} is a ${type}; only regular files are allowed`,
          );
      }
    }
  } catch (err) {
    extract.destroy();
    if (err instanceof PolicyError) throw err;
    throw new PolicyError(
      'BUNDLE_ARCHIVE_INVALID',
      `bundle archive is not a valid tar: ${describeThrown(err)}`,
      err,
    );
  }
  return files.result();
}

/**
 * A path inside a bundle, relative to its root. OPA writes `/policy.wasm`, and
 * `tar -C dir .` writes `./policy.wasm`: both prefixes mean the bundle root.
 * Anything that could name a place outside the root, or two spellings of one
 * file, is refused.
 */
export function normalizeBundlePath(
  raw: string,
  limits: Pick<BundleLimits, 'maxPathLength'>,
): string {
  const shown = JSON.stringify(raw.slice(0, 200));
  if (raw.length > limits.maxPathLength) {
    throw new PolicyError(
      'BUNDLE_PATH_INVALID',
      `bundle path ${shown}... is longer than ${limits.maxPathLength}`,
    );
  }
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) {
    throw new PolicyError(
      'BUNDLE_PATH_INVALID',
      `bundle path ${shown} has a control character or a backslash`,
    );
  }
  let path = raw;
  if (path.startsWith('./')) path = path.slice(2);
  else if (path.startsWith('/') && !path.startsWith('//')) path = path.slice(1);
  if (path.endsWith('/')) path = path.slice(0, -1); // a directory entry
  if (path === '' || path === '.') return '.';
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new PolicyError(
        'BUNDLE_PATH_INVALID',
        `bundle path ${shown} is absolute, empty or escapes the bundle root`,
      );
    }
  }
  if (/^[A-Za-z]:/.test(path)) {
    throw new PolicyError('BUNDLE_PATH_INVALID', `bundle path ${shown} names a drive`);
  }
  return path;
}

/** Accumulates a bundle's files while enforcing entry count, per-file and total size, and uniqueness. */
export class FileCollector {
  readonly #limits: BundleLimits;
  readonly #files = new Map<string, Uint8Array>();
  #entries = 0;
  #total = 0;

  constructor(limits: BundleLimits) {
    this.#limits = limits;
  }

  countEntry(): void {
    if (++this.#entries > this.#limits.maxEntries) {
      throw new PolicyError(
        'BUNDLE_TOO_MANY_ENTRIES',
        `bundle has more than ${this.#limits.maxEntries} entries`,
      );
    }
  }

  /** Refuses a file whose (declared or read so far) size breaks a bound. */
  checkSize(path: string, size: number): void {
    if (size > this.#limits.maxFileBytes) {
      throw new PolicyError(
        'BUNDLE_FILE_TOO_LARGE',
        `bundle file ${path} is over the limit of ${this.#limits.maxFileBytes} bytes`,
      );
    }
    if (this.#total + size > this.#limits.maxTotalBytes) {
      throw new PolicyError(
        'BUNDLE_TOO_LARGE',
        `bundle files exceed the limit of ${this.#limits.maxTotalBytes} bytes in total`,
      );
    }
  }

  add(path: string, bytes: Uint8Array): void {
    if (path === '.') {
      throw new PolicyError('BUNDLE_PATH_INVALID', 'bundle has a file entry at its root path');
    }
    // Two entries for one path would let a signature check read one copy and the engine another.
    if (this.#files.has(path)) {
      throw new PolicyError('BUNDLE_DUPLICATE_ENTRY', `bundle has two entries for ${path}`);
    }
    this.checkSize(path, bytes.byteLength);
    this.#total += bytes.byteLength;
    this.#files.set(path, bytes);
  }

  result(): BundleFiles {
    return this.#files;
  }
}
