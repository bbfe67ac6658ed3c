// Keyless signer checks: the leaf certificate chains to a trusted Fulcio CA,
// the CA and every certificate on the path were valid at each verified signing
// time, and the certificate was logged in a trusted CT log (embedded SCT).
import { X509Certificate, type X509SCTExtension } from '@sigstore/core';
import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { children, readTlv, wrap } from './der.ts';
import { VerificationError } from './error.ts';
import { bytesEqual, sha256, verifySignature } from './signature.ts';
import type { CertificateAuthority, LogAuthority } from '../trust/trust.types.ts';
import type { HashAlgorithm } from './bundle.ts';

export interface Leaf {
  der: Buffer;
  cert: X509Certificate;
  publicKey: KeyObject;
}

export function parseLeaf(der: Buffer): Leaf {
  let cert: X509Certificate;
  let publicKey: KeyObject;
  try {
    cert = X509Certificate.parse(der as Buffer<ArrayBuffer>);
    publicKey = createPublicKey({ key: cert.publicKey, format: 'der', type: 'spki' });
    // Touch the fields verification relies on, so malformed DER fails here.
    void cert.notBefore;
    void cert.notAfter;
    void cert.subjectAltName;
  } catch (err) {
    if (err instanceof VerificationError) throw err;
    throw new VerificationError(
      'MALFORMED_CERTIFICATE',
      'the signing certificate is not valid DER X.509',
      err,
    );
  }
  return { der, cert, publicKey };
}

/** The trusted CAs whose issuing certificate signed `leaf`; UNTRUSTED_CA when there is none. */
export function trustedIssuers(leaf: Leaf, cas: CertificateAuthority[]): CertificateAuthority[] {
  if (leaf.cert.isCA) {
    throw new VerificationError(
      'CERTIFICATE_INVALID',
      'the signing certificate is a CA certificate',
    );
  }
  const issuers = cas.filter((ca) => issuedBy(leaf, ca));
  if (issuers.length === 0) {
    throw new VerificationError(
      'UNTRUSTED_CA',
      `the signing certificate (issuer ${describeName(leaf.cert.issuer)}) does not chain to a trusted certificate authority`,
    );
  }
  return issuers;
}

/**
 * Checks every verified signing time against the leaf's validity and picks an
 * issuer that was valid (trusted-root window and its own certificates) at all of them.
 */
export function validIssuerAt(
  leaf: Leaf,
  issuers: CertificateAuthority[],
  times: Date[],
): CertificateAuthority {
  for (const time of times) {
    if (!(leaf.cert.notBefore <= time && time <= leaf.cert.notAfter)) {
      throw new VerificationError(
        'CERTIFICATE_NOT_VALID_AT_SIGNING_TIME',
        `the signing certificate was valid from ${leaf.cert.notBefore.toISOString()} to ${leaf.cert.notAfter.toISOString()}, not at the signing time ${time.toISOString()}`,
      );
    }
  }
  const ca = issuers.find((c) => times.every((t) => caValidAt(c, t)));
  if (ca === undefined) {
    throw new VerificationError(
      'CA_NOT_VALID_AT_SIGNING_TIME',
      `the certificate authority ${issuers[0]!.subject || issuers[0]!.uri} was not valid at the signing time ${times.map((t) => t.toISOString()).join(', ')}`,
    );
  }
  return ca;
}

function caValidAt(ca: CertificateAuthority, time: Date): boolean {
  if (ca.validFor.start > time || (ca.validFor.end !== undefined && time > ca.validFor.end))
    return false;
  return ca.chain.every((c) => c.notBefore <= time && time <= c.notAfter);
}

const chainChecked = new WeakMap<CertificateAuthority, boolean>();

// The trusted chain is checked once per CA: each certificate is a CA signed by
// the next, and the root signs itself.
function chainIsSound(ca: CertificateAuthority): boolean {
  let ok = chainChecked.get(ca);
  if (ok === undefined) {
    ok = ca.chain.every((cert, i) => {
      const issuerKey = ca.chainKeys[i + 1] ?? ca.chainKeys[i]!;
      const issuer = ca.chain[i + 1] ?? cert;
      return cert.isCA && bytesEqual(cert.issuer, issuer.subject) && certSignedBy(cert, issuerKey);
    });
    chainChecked.set(ca, ok);
  }
  return ok;
}

function issuedBy(leaf: Leaf, ca: CertificateAuthority): boolean {
  const issuing = ca.chain[0]!;
  return (
    bytesEqual(leaf.cert.issuer, issuing.subject) &&
    certSignedBy(leaf.cert, ca.chainKeys[0]!, leaf.der) &&
    chainIsSound(ca)
  );
}

function certSignedBy(cert: X509Certificate, key: KeyObject, der?: Buffer): boolean {
  const tbs = der === undefined ? cert.tbsCertificate.toDER() : tbsOf(der);
  const hash = cert.signatureAlgorithm as HashAlgorithm | undefined;
  return verifySignature(tbs, key, cert.signatureValue, hash ?? null);
}

/** The exact TBSCertificate bytes of a DER certificate. */
export function tbsOf(der: Buffer): Buffer {
  const outer = readTlv(der, 0);
  const tbs = readTlv(der, outer.contentStart, outer.end);
  return der.subarray(tbs.start, tbs.end);
}

const SCT_OID_DER = Buffer.from('060a2b06010401d679020402', 'hex');

/**
 * RFC 6962 section 3.2: an embedded SCT signs the precertificate TBS, which is
 * the certificate's TBS without the SCT-list extension, prefixed by the issuer
 * key hash. Returns the number of SCTs verified; throws if any fails.
 */
export function verifyScts(leaf: Leaf, ca: CertificateAuthority, ctlogs: LogAuthority[]): number {
  const ext = leaf.cert.extSCT;
  let scts: X509SCTExtension['signedCertificateTimestamps'];
  try {
    scts = ext?.signedCertificateTimestamps ?? [];
  } catch (err) {
    throw new VerificationError('SCT_INVALID', 'the embedded SCT list is malformed', err);
  }
  if (scts.length === 0) {
    throw new VerificationError(
      'SCT_MISSING',
      'the signing certificate carries no signed certificate timestamp from a CT log',
    );
  }
  const issuerKeyHash = sha256(ca.chain[0]!.publicKey);
  const tbs = precertTbs(leaf.der);
  const len = Buffer.from([(tbs.length >> 16) & 0xff, (tbs.length >> 8) & 0xff, tbs.length & 0xff]);
  const preCert = Buffer.concat([issuerKeyHash, len, tbs]);
  for (const sct of scts) {
    const logs = ctlogs.filter(
      (log) =>
        bytesEqual(log.logId, sct.logID) &&
        log.validFor.start <= sct.datetime &&
        (log.validFor.end === undefined || sct.datetime <= log.validFor.end),
    );
    let ok = false;
    for (const log of logs) {
      try {
        if (sct.verify(preCert, log.publicKey)) ok = true;
      } catch {
        // a malformed SCT signature is simply not valid
      }
      if (ok) break;
    }
    if (!ok) {
      throw new VerificationError(
        'SCT_INVALID',
        logs.length === 0
          ? `the SCT names CT log ${sct.logID.toString('base64')}, which is not trusted at ${sct.datetime.toISOString()}`
          : 'the SCT signature does not verify with the trusted CT log key',
      );
    }
  }
  return scts.length;
}

// TBSCertificate with the SCT extension removed and every enclosing length fixed.
function precertTbs(der: Buffer): Buffer {
  const outer = readTlv(der, 0);
  const tbs = readTlv(der, outer.contentStart, outer.end);
  const parts = children(der, tbs);
  const rebuilt = parts.map((part) => {
    if (part.tag !== 0xa3) return der.subarray(part.start, part.end);
    const seq = readTlv(der, part.contentStart, part.end);
    const exts = children(der, seq)
      .filter((ext) => {
        const oid = readTlv(der, ext.contentStart, ext.end);
        return !bytesEqual(der.subarray(oid.start, oid.end), SCT_OID_DER);
      })
      .map((ext) => der.subarray(ext.start, ext.end));
    return wrap(0xa3, wrap(0x30, Buffer.concat(exts)));
  });
  return wrap(0x30, Buffer.concat(rebuilt));
}

function describeName(der: Buffer): string {
  // Print the printable runs of the DN (CN, O), enough to tell CAs apart.
  const text = der
    .toString('latin1')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim();
  return JSON.stringify(text.slice(0, 120));
}
