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

export function localStore(root: string): AttestationDiscovery {
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
          names = (await readdir(dir)).sort();
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw new DiscoveryError(
            'STORE_UNREADABLE',
            `cannot read attestation store ${dir}: ${(err as Error).message}`,
            err,
          );
        }
        for (const name of names.slice(0, MAX_FILES)) {
          const path = join(dir, name);
          const info = await stat(path);
          if (!info.isFile()) continue;
          if (info.size > MAX_FILE_BYTES) {
            throw new DiscoveryError(
              'RESPONSE_TOO_LARGE',
              `attestation file ${path} is larger than ${MAX_FILE_BYTES} bytes`,
            );
          }
          found.push({
            source: `store:${folder}/${name}`,
            bytes: await readFile(path, { signal }),
          });
        }
      }
      return found;
    },
  };
}
