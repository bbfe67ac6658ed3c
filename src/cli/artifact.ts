// Reads an artifact file for verification: both digests, streamed, and the
// bytes themselves when small enough (Ed25519 message signatures need them).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Artifact } from '../verify/index.ts';
import { UsageError } from './io.ts';

const KEEP_BYTES_UP_TO = 64 * 1024 * 1024;

export async function readArtifact(path: string): Promise<Artifact> {
  const sha256 = createHash('sha256');
  const sha512 = createHash('sha512');
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      const buf = chunk as Buffer;
      sha256.update(buf);
      sha512.update(buf);
      size += buf.length;
      if (size <= KEEP_BYTES_UP_TO) chunks.push(buf);
    }
  } catch (err) {
    throw new UsageError(`cannot read artifact ${path}: ${(err as Error).message}`);
  }
  const digests = { sha256: sha256.digest('hex'), sha512: sha512.digest('hex') };
  return size <= KEEP_BYTES_UP_TO ? { digests, bytes: Buffer.concat(chunks) } : { digests };
}
