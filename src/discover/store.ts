// A local attestation store: a directory with one folder per artifact digest,
// `sha256-<hex>/`, holding attestation files (bundles, JSON Lines, npm
// documents, DSSE envelopes). Enough for the Kubernetes endpoint to work end
// to end without a registry; registry discovery reads the same shape remotely.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DiscoveryError } from './error.ts';
import type { ArtifactRef, AttestationDiscovery, DiscoveredAttestation } from './discover.types.ts';

const MAX_FILES = 64;
const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** Bound on what the store keeps in memory (listings, files): past it, it starts afresh. */
const MAX_CACHED_FILES = 4096;

export function localStore(root: string): AttestationDiscovery {
  // Listings and file contents are reused while the folder's and the file's
  // modification time and size are unchanged: a request costs a few stats, not
  // a directory read and a file read per attestation.
  const listings = new Map<string, { mtimeMs: number; names: string[] }>();
  const files = new Map<string, { mtimeMs: number; size: number; bytes: Buffer }>();
  return {
    name: `store:${root}`,
    async discover(artifact: ArtifactRef, signal: AbortSignal): Promise<DiscoveredAttestation[]> {
      const folders = (['sha256', 'sha512'] as const)
        .filter((alg) => artifact.digests[alg] !== undefined)
        .map((alg) => `${alg}-${artifact.digests[alg]!}`);
      const found: DiscoveredAttestation[] = [];
      for (const folder of folders) {
        signal.throwIfAborted();
        const dir = join(root, folder);
        let names: string[];
        try {
          const info = await stat(dir);
          const cached = listings.get(dir);
          if (cached !== undefined && cached.mtimeMs === info.mtimeMs) {
            names = cached.names;
          } else {
            names = (await readdir(dir)).sort().slice(0, MAX_FILES);
            if (listings.size >= MAX_CACHED_FILES) listings.clear();
            listings.set(dir, { mtimeMs: info.mtimeMs, names });
          }
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
            listings.delete(dir);
            continue;
          }
          throw new DiscoveryError(
            'STORE_UNREADABLE',
            `cannot read attestation store ${dir}: ${(err as Error).message}`,
            err,
          );
        }
        for (const name of names) {
          const path = join(dir, name);
          let info;
          try {
            info = await stat(path);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
            throw new DiscoveryError(
              'STORE_UNREADABLE',
              `cannot read ${path}: ${(err as Error).message}`,
              err,
            );
          }
          if (!info.isFile()) continue;
          if (info.size > MAX_FILE_BYTES) {
            throw new DiscoveryError(
              'RESPONSE_TOO_LARGE',
              `attestation file ${path} is larger than ${MAX_FILE_BYTES} bytes`,
            );
          }
          let entry = files.get(path);
          if (entry === undefined || entry.mtimeMs !== info.mtimeMs || entry.size !== info.size) {
            entry = {
              mtimeMs: info.mtimeMs,
              size: info.size,
              bytes: await readFile(path, { signal }),
            };
            files.set(path, entry);
          }
          found.push({ source: `store:${folder}/${name}`, bytes: entry.bytes });
        }
      }
      return found;
    },
  };
}
