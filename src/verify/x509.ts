// The signing certificate, parsed once per verification. OpenSSL (node:crypto)
// parses and verifies it natively; the fields OpenSSL does not expose (raw
// names, every extension's value) are sliced from the original DER, so nothing
// is re-encoded and every byte compared is a byte that was signed.
import { X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { children, readTlv, type Tlv } from './der.ts';
import { VerificationError } from './error.ts';

export interface Certificate {
  der: Buffer;
  x509: NodeX509;
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  /** Contents of the issuer and subject Name SEQUENCEs. */
  issuerName: Buffer;
  subjectName: Buffer;
  /** The exact TBSCertificate bytes. */
  tbs: Buffer;
  /** extnValue contents by extension OID (dotted). A repeated extension is refused. */
  extensions: ReadonlyMap<string, Buffer>;
  /** Offsets of each extension's TLV inside `der`, by OID, for precertificate reconstruction. */
  extensionTlvs: ReadonlyMap<string, Tlv>;
}

export function parseCertificate(der: Buffer, what = 'the signing certificate'): Certificate {
  let x509: NodeX509;
  try {
    x509 = new NodeX509(der);
  } catch (err) {
    throw new VerificationError('MALFORMED_CERTIFICATE', `${what} is not DER X.509`, err);
  }
  try {
    const outer = readTlv(der, 0);
    if (outer.end !== der.length) throw new Error('trailing bytes after the certificate');
    const tbsTlv = readTlv(der, outer.contentStart, outer.end);
    const fields = children(der, tbsTlv);
    // [0] version is present in every v3 certificate; the fields after it are positional.
    const base = fields[0]?.tag === 0xa0 ? 1 : 0;
    const issuer = fields[base + 2];
    const subject = fields[base + 4];
    if (issuer === undefined || subject === undefined) throw new Error('missing names');
    const { extensions, extensionTlvs } = extensionsOf(
      der,
      fields.find((f) => f.tag === 0xa3),
      what,
    );
    return {
      der,
      x509,
      publicKey: x509.publicKey,
      notBefore: x509.validFromDate,
      notAfter: x509.validToDate,
      isCA: x509.ca,
      issuerName: der.subarray(issuer.contentStart, issuer.end),
      subjectName: der.subarray(subject.contentStart, subject.end),
      tbs: der.subarray(tbsTlv.start, tbsTlv.end),
      extensions,
      extensionTlvs,
    };
  } catch (err) {
    if (err instanceof VerificationError) throw err;
    throw new VerificationError('MALFORMED_CERTIFICATE', `${what} is malformed DER`, err);
  }
}

/**
 * The extensions of a DER certificate (only its structure down to the
 * extensions is read): extnValue contents by OID. CERTIFICATE_INVALID for a
 * repeated extension, MALFORMED_CERTIFICATE for bad DER.
 */
export function readExtensions(der: Buffer, what = 'the certificate'): ReadonlyMap<string, Buffer> {
  try {
    const outer = readTlv(der, 0);
    const tbs = readTlv(der, outer.contentStart, outer.end);
    return extensionsOf(
      der,
      children(der, tbs).find((f) => f.tag === 0xa3),
      what,
    ).extensions;
  } catch (err) {
    if (err instanceof VerificationError) throw err;
    throw new VerificationError('MALFORMED_CERTIFICATE', `${what} is malformed DER`, err);
  }
}

function extensionsOf(der: Buffer, field: Tlv | undefined, what: string) {
  const extensions = new Map<string, Buffer>();
  const extensionTlvs = new Map<string, Tlv>();
  if (field === undefined) return { extensions, extensionTlvs };
  const seq = readTlv(der, field.contentStart, field.end);
  for (const ext of children(der, seq)) {
    const parts = children(der, ext);
    const oid = parts[0];
    const value = parts[parts.length - 1];
    if (oid?.tag !== 0x06 || value?.tag !== 0x04 || parts.length < 2 || parts.length > 3) {
      throw new VerificationError('CERTIFICATE_INVALID', `${what} has a malformed extension`);
    }
    const name = decodeOid(der.subarray(oid.contentStart, oid.end));
    if (extensions.has(name)) {
      // RFC 5280 4.2: an extension appears at most once; a duplicate could
      // show one value to us and another to a different verifier.
      throw new VerificationError('CERTIFICATE_INVALID', `${what} repeats extension ${name}`);
    }
    extensions.set(name, der.subarray(value.contentStart, value.end));
    extensionTlvs.set(name, ext);
  }
  return { extensions, extensionTlvs };
}

/** Dotted form of a DER OBJECT IDENTIFIER's contents. */
export function decodeOid(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new Error('empty OID');
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (value > 0x1ffffff) throw new Error('OID arc too large');
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = value < 40 ? 0 : value < 80 ? 1 : 2;
        arcs.push(first, value - first * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
    } else if (i === bytes.length - 1) {
      throw new Error('truncated OID');
    }
  }
  return arcs.join('.');
}
