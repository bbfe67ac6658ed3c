// Embedded signed certificate timestamps (RFC 6962 sections 3.2-3.3): proof
// that the signing certificate was submitted to a trusted CT log.
import { children, readTlv, wrap } from './der.ts';
import { VerificationError } from './error.ts';
import { bytesEqual, sha256, verifySignature } from './signature.ts';
import type { Certificate } from './x509.ts';
import type { LogAuthority } from '../trust/trust.types.ts';

export const SCT_EXTENSION_OID = '1.3.6.1.4.1.11129.2.4.2';

export interface Sct {
  version: number;
  logId: Buffer;
  timestamp: bigint;
  extensions: Buffer;
  hashAlgorithm: number;
  signatureAlgorithm: number;
  signature: Buffer;
}

/** Parses the SignedCertificateTimestampList in the certificate's SCT extension. */
export function parseScts(cert: Certificate): Sct[] {
  const value = cert.extensions.get(SCT_EXTENSION_OID);
  if (value === undefined) return [];
  try {
    const octets = readTlv(value, 0);
    if (octets.tag !== 0x04 || octets.end !== value.length) throw new Error('not an OCTET STRING');
    const list = value.subarray(octets.contentStart, octets.end);
    const total = list.readUInt16BE(0);
    if (total + 2 !== list.length) throw new Error('list length mismatch');
    const scts: Sct[] = [];
    let pos = 2;
    while (pos < list.length) {
      const len = list.readUInt16BE(pos);
      const sct = list.subarray(pos + 2, pos + 2 + len);
      if (sct.length !== len) throw new Error('truncated SCT');
      scts.push(parseSct(sct));
      pos += 2 + len;
    }
    return scts;
  } catch (err) {
    throw new VerificationError('SCT_INVALID', 'the embedded SCT list is malformed', err);
  }
}

function parseSct(buf: Buffer): Sct {
  const extLen = buf.readUInt16BE(41);
  const extensions = buf.subarray(43, 43 + extLen);
  let pos = 43 + extLen;
  const hashAlgorithm = buf.readUInt8(pos);
  const signatureAlgorithm = buf.readUInt8(pos + 1);
  const sigLen = buf.readUInt16BE(pos + 2);
  pos += 4;
  const signature = buf.subarray(pos, pos + sigLen);
  if (extensions.length !== extLen || signature.length !== sigLen || pos + sigLen !== buf.length) {
    throw new Error('malformed SCT');
  }
  return {
    version: buf.readUInt8(0),
    logId: buf.subarray(1, 33),
    timestamp: buf.readBigUInt64BE(33),
    extensions,
    hashAlgorithm,
    signatureAlgorithm,
    signature,
  };
}

/**
 * Verifies every embedded SCT against the trusted CT logs: each must be signed
 * by a log valid at the SCT's time, over the precertificate (the TBS without the
 * SCT extension) and the issuer's key hash. Returns how many verified.
 */
export function verifyScts(cert: Certificate, issuerSpki: Buffer, ctlogs: LogAuthority[]): number {
  const scts = parseScts(cert);
  if (scts.length === 0) {
    throw new VerificationError(
      'SCT_MISSING',
      'the signing certificate carries no signed certificate timestamp from a CT log',
    );
  }
  const tbs = precertificateTbs(cert);
  const issuerKeyHash = sha256(issuerSpki);
  for (const sct of scts) {
    const time = new Date(Number(sct.timestamp));
    const logs = ctlogs.filter(
      (log) =>
        bytesEqual(log.logId, sct.logId) &&
        log.validFor.start <= time &&
        (log.validFor.end === undefined || time <= log.validFor.end),
    );
    if (logs.length === 0) {
      throw new VerificationError(
        'SCT_INVALID',
        `the SCT names CT log ${sct.logId.toString('base64')}, which is not trusted at ${time.toISOString()}`,
      );
    }
    if (sct.version !== 0 || sct.hashAlgorithm !== 4) {
      throw new VerificationError('SCT_INVALID', 'the SCT is not a v1 SHA-256 timestamp');
    }
    const header = Buffer.alloc(12);
    header.writeUInt8(sct.version, 0);
    header.writeUInt8(0, 1); // signature_type: certificate_timestamp
    header.writeBigUInt64BE(sct.timestamp, 2);
    header.writeUInt16BE(1, 10); // entry_type: precert_entry
    const tbsLen = Buffer.from([
      (tbs.length >> 16) & 0xff,
      (tbs.length >> 8) & 0xff,
      tbs.length & 0xff,
    ]);
    const extLen = Buffer.alloc(2);
    extLen.writeUInt16BE(sct.extensions.length, 0);
    const signed = Buffer.concat([header, issuerKeyHash, tbsLen, tbs, extLen, sct.extensions]);
    if (!logs.some((log) => verifySignature(signed, log.publicKey, sct.signature, 'sha256'))) {
      throw new VerificationError(
        'SCT_INVALID',
        'the SCT signature does not verify with the trusted CT log key',
      );
    }
  }
  return scts.length;
}

// TBSCertificate with the SCT-list extension removed and every enclosing length re-encoded.
function precertificateTbs(cert: Certificate): Buffer {
  const der = cert.der;
  const sctTlv = cert.extensionTlvs.get(SCT_EXTENSION_OID)!;
  const outer = readTlv(der, 0);
  const tbs = readTlv(der, outer.contentStart, outer.end);
  const parts = children(der, tbs).map((part) => {
    if (part.tag !== 0xa3) return der.subarray(part.start, part.end);
    const seq = readTlv(der, part.contentStart, part.end);
    const kept = Buffer.concat([
      der.subarray(seq.contentStart, sctTlv.start),
      der.subarray(sctTlv.end, seq.end),
    ]);
    return wrap(0xa3, wrap(0x30, kept));
  });
  return wrap(0x30, Buffer.concat(parts));
}
