// A transparency log the test trusts and that logs whatever body it is given.
// The test PKI's logs only log what they sign, and a bundle's entry must pass
// its SET and inclusion proof before its body is read, so hostile bodies can
// reach the body checks only through a log like this one.
import { generateKeyPairSync } from 'node:crypto';
import { TransparencyLogEntry } from '@sigstore/protobuf-specs';
import type { SerializedBundle } from '@sigstore/bundle';
import type { SerializedLog, SerializedTrustedRoot } from '../../support/pki.ts';
import { createTestLog } from '../../support/tlog.ts';

export type SerializedTlogEntry = SerializedBundle['verificationMaterial']['tlogEntries'][number];

export interface CraftingLog {
  /** The trusted root with this log added to its tlogs. */
  trust(root: SerializedTrustedRoot): SerializedTrustedRoot;
  /** A Rekor v1 style entry (SET and inclusion proof with checkpoint) logging `body`. */
  append(body: Buffer, kind: string, apiVersion: string, integratedTime: Date): SerializedTlogEntry;
}

export function createCraftingLog(): CraftingLog {
  const log = createTestLog(
    'rekor-v1',
    'https://crafted.rekor.mock',
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  );
  const trusted: SerializedLog = {
    baseUrl: log.baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: log.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      keyDetails: log.keyDetails,
      validFor: { start: new Date(0).toISOString() },
    },
    logId: { keyId: log.logId.toString('base64') },
  };
  return {
    trust: (root) => ({ ...root, tlogs: [...root.tlogs, trusted] }),
    append(body, kind, apiVersion, integratedTime) {
      const entry = log.append({
        body,
        kind,
        apiVersion,
        integratedTime: Math.floor(integratedTime.getTime() / 1000),
        promise: true,
        proof: true,
      });
      return TransparencyLogEntry.toJSON(entry) as SerializedTlogEntry;
    },
  };
}
