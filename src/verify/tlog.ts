// Transparency-log checks: that an entry is in a trusted log (signed entry
// timestamp, or Merkle inclusion proof under a signed checkpoint), and that
// the logged body is the very signature and key the bundle carries.
// Specs: RFC 6962 section 2.1 (Merkle proofs), transparency-dev checkpoint and
// signed-note formats, Rekor types hashedrekord/dsse/intoto.
import { json as sigjson } from '@sigstore/core';
import { VerificationError } from './error.ts';
import { describeValue } from './json.ts';
import { bytesEqual, sha256, verifySignature } from './signature.ts';
import type { BundleVersion, TlogEntry } from './bundle.ts';
import type { LogAuthority } from '../trust/trust.types.ts';
import type { TlogFact } from './verify.types.ts';

export interface InclusionResult {
  fact: TlogFact;
  /** The integrated time, when a signed entry timestamp vouches for it. */
  verifiedTime?: Date;
  /** The trusted logs the entry's log ID names (their validity is checked at the signing times). */
  logs: LogAuthority[];
}

/** Proves the entry is in a trusted log. */
export function verifyInclusion(
  entry: TlogEntry,
  version: BundleVersion,
  tlogs: LogAuthority[],
): InclusionResult {
  const candidates = tlogs.filter((t) => bytesEqual(t.logId, entry.logId));
  if (candidates.length === 0) {
    throw new VerificationError(
      'TLOG_UNKNOWN_LOG',
      `transparency log ${describeValue(entry.logId.toString('base64'), 64)} is not in the trusted root`,
    );
  }
  const hasProof = entry.inclusionProof !== undefined;
  const hasPromise = entry.inclusionPromise !== undefined;
  // Bundle v0.1 relies on the signed entry timestamp; v0.2 and later require an
  // inclusion proof with a checkpoint (sigstore bundle spec).
  if (version === '0.1' ? !hasPromise && !hasProof : !hasProof) {
    throw new VerificationError(
      'TLOG_PROOF_MISSING',
      `transparency-log entry ${entry.logIndex} carries no ${version === '0.1' ? 'signed entry timestamp or inclusion proof' : 'inclusion proof'}; proving inclusion would need an online log lookup`,
    );
  }

  let verifiedTime: Date | undefined;
  if (hasPromise) {
    const time = new Date(entry.integratedTime * 1000);
    const valid = candidates.filter((t) => withinValidity(t, time));
    if (valid.length === 0) {
      throw new VerificationError(
        'TLOG_LOG_NOT_VALID_AT_TIME',
        `transparency log ${entry.logId.toString('base64')} was not valid at the entry's integrated time ${time.toISOString()}`,
      );
    }
    verifySet(entry, valid);
    verifiedTime = time;
  }
  if (hasProof) {
    verifyInclusionProof(entry, candidates);
  }
  return {
    fact: {
      logId: entry.logId.toString('base64'),
      logIndex: entry.logIndex,
      ...(entry.integratedTime > 0
        ? { integratedTime: new Date(entry.integratedTime * 1000).toISOString() }
        : {}),
      kind: entry.kind,
      version: entry.version,
      proof: hasProof ? 'inclusion-proof' : 'inclusion-promise',
    },
    ...(verifiedTime === undefined ? {} : { verifiedTime }),
    logs: candidates,
  };
}

export function withinValidity(log: LogAuthority, time: Date): boolean {
  return log.validFor.start <= time && (log.validFor.end === undefined || time <= log.validFor.end);
}

// The SET is the log's signature over the canonical JSON of the entry's
// body, integrated time, log index and log ID (Rekor's VerificationPayload).
function verifySet(entry: TlogEntry, logs: LogAuthority[]): void {
  const payload = Buffer.from(
    sigjson.canonicalize({
      body: entry.canonicalizedBody.toString('base64'),
      integratedTime: entry.integratedTime,
      logIndex: Number(entry.logIndex),
      logID: entry.logId.toString('hex'),
    }),
    'utf8',
  );
  const sig = entry.inclusionPromise!.signedEntryTimestamp;
  if (!logs.some((log) => verifySignature(payload, log.publicKey, sig))) {
    throw new VerificationError(
      'TLOG_SET_INVALID',
      `the signed entry timestamp of transparency-log entry ${entry.logIndex} does not verify`,
    );
  }
}

function verifyInclusionProof(entry: TlogEntry, logs: LogAuthority[]): void {
  const proof = entry.inclusionProof!;
  if (proof.checkpoint === undefined) {
    throw new VerificationError(
      'TLOG_PROOF_MISSING',
      `the inclusion proof of transparency-log entry ${entry.logIndex} has no checkpoint`,
    );
  }
  const checkpoint = verifyCheckpoint(proof.checkpoint, logs);
  if (
    !bytesEqual(checkpoint.rootHash, proof.rootHash) ||
    checkpoint.size !== BigInt(proof.treeSize)
  ) {
    throw new VerificationError(
      'TLOG_CHECKPOINT_MISMATCH',
      `the checkpoint (size ${checkpoint.size}) does not commit to the inclusion proof's tree (size ${proof.treeSize})`,
    );
  }
  const index = BigInt(proof.logIndex);
  const size = checkpoint.size;
  if (index >= size) {
    throw new VerificationError(
      'TLOG_INCLUSION_PROOF_INVALID',
      `inclusion proof index ${index} is outside a tree of size ${size}`,
    );
  }
  const root = rootFromInclusionProof(index, size, leafHash(entry.canonicalizedBody), proof.hashes);
  if (root === undefined || !bytesEqual(root, checkpoint.rootHash)) {
    throw new VerificationError(
      'TLOG_INCLUSION_PROOF_INVALID',
      `the inclusion proof of transparency-log entry ${entry.logIndex} does not lead to the checkpoint's root hash`,
    );
  }
}

interface Checkpoint {
  origin: string;
  size: bigint;
  rootHash: Buffer;
}

// A signature line starts with an em dash. Some published bundles carry it as its
// UTF-8 bytes read as Latin-1 ("\u00e2\u0080\u0094"); the dash is not signed
// content (the note above the blank line is), so both spellings are accepted.
const SIGNATURE_LINE = /^(?:\u2014|\u00e2\u0080\u0094) (\S+) ([A-Za-z0-9+/=]+)$/;

/**
 * Verifies a signed note (https://github.com/transparency-dev/formats/blob/main/log/README.md):
 * at least one signature line must be a valid signature by a trusted log
 * whose key hint (first 4 bytes of the log ID) and name match.
 */
export function verifyCheckpoint(envelope: string, logs: LogAuthority[]): Checkpoint {
  const split = envelope.indexOf('\n\n');
  if (split < 0) {
    throw new VerificationError('TLOG_CHECKPOINT_INVALID', 'the checkpoint has no signature block');
  }
  const note = envelope.slice(0, split + 1);
  const sigLines = envelope
    .slice(split + 2)
    .split('\n')
    .filter((l) => l.length > 0);
  const lines = note.slice(0, -1).split('\n');
  if (lines.length < 3 || !/^[0-9]{1,19}$/.test(lines[1]!)) {
    throw new VerificationError('TLOG_CHECKPOINT_INVALID', 'the checkpoint body is malformed');
  }
  const rootHash = Buffer.from(lines[2]!, 'base64');
  if (rootHash.length !== 32) {
    throw new VerificationError(
      'TLOG_CHECKPOINT_INVALID',
      'the checkpoint root hash is not 32 bytes',
    );
  }
  const data = Buffer.from(note, 'utf8');
  const verified = sigLines.some((line) => {
    const m = SIGNATURE_LINE.exec(line);
    if (m === null) return false;
    const name = m[1]!;
    const raw = Buffer.from(m[2]!, 'base64');
    if (raw.length < 5) return false;
    const hint = raw.subarray(0, 4);
    const sig = raw.subarray(4);
    // The name is attacker-controlled: compared as a literal (the log's host, or
    // its base URL without the scheme), never as a pattern or a substring.
    return logs.some(
      (log) =>
        bytesEqual(log.logId.subarray(0, 4), hint) &&
        logNames(log).includes(name) &&
        verifySignature(data, log.publicKey, sig),
    );
  });
  if (!verified) {
    throw new VerificationError(
      'TLOG_CHECKPOINT_INVALID',
      'no signature on the checkpoint verifies with a trusted log key',
    );
  }
  return { origin: lines[0]!, size: BigInt(lines[1]!), rootHash };
}

function logNames(log: LogAuthority): string[] {
  const bare = log.baseUrl.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  try {
    return [new URL(log.baseUrl).host, bare];
  } catch {
    return [bare];
  }
}

function leafHash(leaf: Buffer): Buffer {
  return sha256(LEAF_PREFIX, leaf);
}

const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

/** RFC 9162 section 2.1.3.2: the root a leaf and its audit path lead to, or undefined if the path is the wrong length. */
export function rootFromInclusionProof(
  index: bigint,
  size: bigint,
  leaf: Buffer,
  hashes: Buffer[],
): Buffer | undefined {
  if (hashes.some((h) => h.length !== 32)) return undefined;
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  for (const p of hashes) {
    if (sn === 0n) return undefined;
    if ((fn & 1n) === 1n || fn === sn) {
      r = sha256(NODE_PREFIX, p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = sha256(NODE_PREFIX, r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : undefined;
}
