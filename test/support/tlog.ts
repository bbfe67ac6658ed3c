// A transparency log for tests: signs what Rekor signs (signed entry
// timestamps, checkpoints) and hands out inclusion proofs, without storing a
// tree. @sigstore/mock's TLog is not used: it proves inclusion in a one-leaf
// tree only (an empty audit path, which hides hash-order bugs), and its Rekor
// v2 entries put the log index outside the tree and sign with ECDSA.
import {
  createHash,
  createPublicKey,
  randomBytes,
  randomInt,
  sign,
  type KeyObject,
} from 'node:crypto';
import { json } from '@sigstore/core';
import type { TransparencyLogEntry } from '@sigstore/bundle';

export type LogVersion = 'rekor-v1' | 'rekor-v2';

export interface TestLog {
  version: LogVersion;
  baseUrl: string;
  /** What the trusted root names the log by (and the checkpoint key hint's source). */
  logId: Buffer;
  publicKey: KeyObject;
  keyDetails: string;
  append(entry: AppendRequest): TransparencyLogEntry;
}

export interface AppendRequest {
  body: Buffer;
  kind: string;
  apiVersion: string;
  /** Seconds since the epoch. Rekor v2 has no integrated time and ignores it. */
  integratedTime: number;
  promise: boolean;
  proof: boolean;
}

/**
 * Rekor v1: ECDSA P-256, log ID sha256(SPKI DER), checkpoints with a tree ID and a
 * timestamp line. Rekor v2: Ed25519, log ID the C2SP signed-note key ID (as the
 * production trusted root lists `log2025-1`), checkpoints named by host only.
 */
export function createTestLog(
  version: LogVersion,
  baseUrl: string,
  privateKey: KeyObject,
): TestLog {
  const publicKey = createPublicKey(privateKey);
  const host = new URL(baseUrl).host;
  const logId = version === 'rekor-v1' ? sha256(spki(publicKey)) : noteKeyId(host, publicKey);
  // Rekor v1 shards: the global log index runs ahead of the index in the active tree.
  const shardOffset = version === 'rekor-v1' ? randomInt(1, 2 ** 24) : 0;
  const origin =
    version === 'rekor-v1' ? `${host} - ${randomBytes(8).readBigUInt64BE() >> 1n}` : host;
  return {
    version,
    baseUrl,
    logId,
    publicKey,
    keyDetails: version === 'rekor-v1' ? 'PKIX_ECDSA_P256_SHA_256' : 'PKIX_ED25519',
    append(req) {
      const treeSize = randomInt(2 ** 20, 2 ** 30);
      const leafIndex = randomInt(treeSize);
      const logIndex = leafIndex + shardOffset;
      const integratedTime = version === 'rekor-v1' ? req.integratedTime : 0;
      return {
        logIndex: String(logIndex),
        logId: { keyId: logId },
        kindVersion: { kind: req.kind, version: req.apiVersion },
        integratedTime: String(integratedTime),
        inclusionPromise: req.promise
          ? { signedEntryTimestamp: signEntryTimestamp(req.body, integratedTime, logIndex) }
          : undefined,
        inclusionProof: req.proof
          ? inclusionProof(req.body, leafIndex, treeSize, req.integratedTime)
          : undefined,
        canonicalizedBody: req.body,
      };
    },
  };

  // Rekor's SET: its signature over the canonical JSON of these four fields.
  function signEntryTimestamp(body: Buffer, integratedTime: number, logIndex: number): Buffer {
    const payload = {
      body: body.toString('base64'),
      integratedTime,
      logIndex,
      logID: logId.toString('hex'),
    };
    return sign('sha256', Buffer.from(json.canonicalize(payload)), privateKey);
  }

  // The audit path's sibling hashes are random: they stand in for the rest of
  // a tree of `treeSize` leaves, and the checkpoint commits to the root they give.
  function inclusionProof(body: Buffer, leafIndex: number, treeSize: number, time: number) {
    const index = BigInt(leafIndex);
    const inner = bitLength(index ^ BigInt(treeSize - 1));
    const border = onesCount(index >> BigInt(inner));
    const hashes = Array.from({ length: inner + border }, () => randomBytes(32));
    const rootHash = rootFromAuditPath(hashLeaf(body), index, hashes, inner);
    return {
      logIndex: String(leafIndex),
      rootHash,
      treeSize: String(treeSize),
      hashes,
      checkpoint: { envelope: checkpoint(treeSize, rootHash, time) },
    };
  }

  // A signed note (C2SP signed-note / tlog-checkpoint): the body, a blank line,
  // then "— <name> base64(key hint || signature)".
  function checkpoint(treeSize: number, rootHash: Buffer, time: number): string {
    // Rekor v1 adds the signing time, in nanoseconds, as an extension line.
    const extra = version === 'rekor-v1' ? [`Timestamp: ${BigInt(time) * 1_000_000_000n}`] : [];
    const note = [origin, String(treeSize), rootHash.toString('base64'), ...extra, ''].join('\n');
    const signature =
      version === 'rekor-v1'
        ? sign('sha256', Buffer.from(note), privateKey)
        : sign(null, Buffer.from(note), privateKey);
    const hintAndSig = Buffer.concat([logId.subarray(0, 4), signature]);
    return `${note}\n\u2014 ${host} ${hintAndSig.toString('base64')}\n`;
  }
}

// RFC 9162 §2.1.3.2, run forwards: the root an audit path leads to.
function rootFromAuditPath(leaf: Buffer, index: bigint, hashes: Buffer[], inner: number): Buffer {
  let node = leaf;
  hashes.forEach((h, i) => {
    if (i >= inner || ((index >> BigInt(i)) & 1n) === 1n) node = hashChildren(h, node);
    else node = hashChildren(node, h);
  });
  return node;
}

function hashLeaf(leaf: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0x00]))
    .update(leaf)
    .digest();
}

function hashChildren(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0x01]))
    .update(left)
    .update(right)
    .digest();
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

function onesCount(n: bigint): number {
  return n.toString(2).replaceAll('0', '').length;
}

// C2SP signed-note key ID for an Ed25519 key: sha256(name || "\n" || 0x01 || key).
function noteKeyId(name: string, publicKey: KeyObject): Buffer {
  const raw = spki(publicKey).subarray(-32);
  return sha256(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([0x01]), raw]));
}

function spki(publicKey: KeyObject): Buffer {
  return publicKey.export({ format: 'der', type: 'spki' });
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}
