// Keyless signer checks: the leaf certificate chains to a trusted Fulcio CA,
// and the leaf, the CA's certificates and the CA's trusted-root window were
// all valid at every verified signing time.
import type { KeyObject } from 'node:crypto';
import { VerificationError } from './error.ts';
import { bytesEqual, verifySignature } from './signature.ts';
import { children, readTlv } from './der.ts';
import { decodeOid, parseCertificate, type Certificate } from './x509.ts';
import type { CertificateAuthority } from '../trust/trust.types.ts';
import type { HashAlgorithm } from './bundle.ts';

export function parseLeaf(der: Buffer): Certificate {
  return parseCertificate(der);
}

/** The trusted CAs whose issuing certificate signed `leaf`; UNTRUSTED_CA when there is none. */
export function trustedIssuers(
  leaf: Certificate,
  cas: CertificateAuthority[],
): CertificateAuthority[] {
  if (leaf.isCA) {
    throw new VerificationError(
      'CERTIFICATE_INVALID',
      'the signing certificate is a CA certificate',
    );
  }
  const issuers = cas.filter((ca) => issuedBy(leaf, ca));
  if (issuers.length === 0) {
    throw new VerificationError(
      'UNTRUSTED_CA',
      `the signing certificate (issuer ${describeName(leaf.issuerName)}) does not chain to a trusted certificate authority`,
    );
  }
  return issuers;
}

/**
 * Checks every verified signing time against the leaf's validity and picks an
 * issuer that was valid (trusted-root window and its own certificates) at all of them.
 */
export function validIssuerAt(
  leaf: Certificate,
  issuers: CertificateAuthority[],
  times: Date[],
): CertificateAuthority {
  for (const time of times) {
    if (!(leaf.notBefore <= time && time <= leaf.notAfter)) {
      throw new VerificationError(
        'CERTIFICATE_NOT_VALID_AT_SIGNING_TIME',
        `the signing certificate was valid from ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()}, not at the signing time ${time.toISOString()}`,
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
      const issuer = ca.chain[i + 1] ?? cert;
      const issuerKey: KeyObject = ca.chainKeys[i + 1] ?? ca.chainKeys[i]!;
      const hash = cert.signatureAlgorithm as HashAlgorithm | undefined;
      return (
        cert.isCA &&
        bytesEqual(cert.issuer, issuer.subject) &&
        verifySignature(cert.tbsCertificate.toDER(), issuerKey, cert.signatureValue, hash ?? null)
      );
    });
    chainChecked.set(ca, ok);
  }
  return ok;
}

function issuedBy(leaf: Certificate, ca: CertificateAuthority): boolean {
  if (!bytesEqual(leaf.issuerName, ca.chain[0]!.subject)) return false;
  let signed: boolean;
  try {
    signed = leaf.x509.verify(ca.chainKeys[0]!);
  } catch {
    signed = false;
  }
  return signed && chainIsSound(ca);
}

// "O=GitHub, Inc., CN=Fulcio Intermediate l2": the organization and common name
// of a DER Name's contents, enough to tell CAs apart in a message.
function describeName(name: Buffer): string {
  const wanted: Record<string, string> = { '2.5.4.10': 'O', '2.5.4.3': 'CN' };
  const parts: string[] = [];
  try {
    let pos = 0;
    while (pos < name.length) {
      const set = readTlv(name, pos);
      for (const atv of children(name, set)) {
        const [oid, value] = children(name, atv);
        if (oid === undefined || value === undefined) continue;
        const key = wanted[decodeOid(name.subarray(oid.contentStart, oid.end))];
        if (key !== undefined)
          parts.push(`${key}=${name.subarray(value.contentStart, value.end).toString('utf8')}`);
      }
      pos = set.end;
    }
  } catch {
    // A malformed name is described as unreadable below.
  }
  const text = parts.join(', ').replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(text === '' ? '(unreadable)' : text.slice(0, 160));
}
