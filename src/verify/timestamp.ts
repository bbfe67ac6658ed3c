// RFC 3161 signed timestamps over the signature bytes: a trusted timestamp
// authority vouches the signature existed at a time (Sigstore bundle spec,
// timestampVerificationData).
import { RFC3161Timestamp } from '@sigstore/core';
import { VerificationError } from './error.ts';
import { bytesEqual } from './signature.ts';
import type { CertificateAuthority } from '../trust/trust.types.ts';

export function verifyRfc3161(der: Buffer, signature: Buffer, tsas: CertificateAuthority[]): Date {
  let ts: RFC3161Timestamp;
  let time: Date;
  let serial: Buffer;
  let issuer: Buffer;
  try {
    ts = RFC3161Timestamp.parse(der as Buffer<ArrayBuffer>);
    time = ts.signingTime;
    serial = ts.signerSerialNumber;
    issuer = ts.signerIssuer;
  } catch (err) {
    throw new VerificationError('TIMESTAMP_INVALID', 'the RFC 3161 timestamp is malformed', err);
  }
  if (Number.isNaN(time.getTime())) {
    throw new VerificationError('TIMESTAMP_INVALID', 'the RFC 3161 timestamp has no valid time');
  }
  const candidates = tsas.filter(
    (tsa) =>
      bytesEqual(tsa.chain[0]!.serialNumber, serial) && bytesEqual(tsa.chain[0]!.issuer, issuer),
  );
  if (candidates.length === 0) {
    throw new VerificationError(
      'TIMESTAMP_UNTRUSTED',
      'the RFC 3161 timestamp is signed by a timestamp authority that is not in the trusted root',
    );
  }
  const valid = candidates.filter(
    (tsa) =>
      tsa.validFor.start <= time &&
      (tsa.validFor.end === undefined || time <= tsa.validFor.end) &&
      tsa.chain.every((c) => c.notBefore <= time && time <= c.notAfter),
  );
  if (valid.length === 0) {
    throw new VerificationError(
      'TIMESTAMP_UNTRUSTED',
      `the timestamp authority was not valid at the timestamp's time ${time.toISOString()}`,
    );
  }
  let lastError: unknown;
  for (const tsa of valid) {
    try {
      ts.verify(signature, tsa.chainKeys[0]!);
      return time;
    } catch (err) {
      lastError = err;
    }
  }
  throw new VerificationError(
    'TIMESTAMP_INVALID',
    'the RFC 3161 timestamp does not verify over the signature with the trusted timestamp authority key',
    lastError,
  );
}
