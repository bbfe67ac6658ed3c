// cosign's attestation layout (`sha256-<hex>.att`): one layer per attestation,
// each a DSSE envelope, with what verifies it in the layer's annotations
// (https://github.com/sigstore/cosign/blob/main/specs/ATTESTATION_SPEC.md,
// SIGNATURE_SPEC.md). provgate's verifier reads Sigstore bundles and DSSE
// envelopes, so each layer becomes one of those:
//   - signed with a key (no certificate annotation): the envelope itself; the
//     verifier checks it with a configured key;
//   - keyless: a v0.1 bundle (the version that carries an inclusion promise,
//     which is what cosign's `bundle` annotation holds) with the certificate
//     chain, the Rekor entry and any RFC 3161 timestamp. Nothing is checked
//     here: a broken annotation yields a bundle the verifier rejects by code.

export const COSIGN_ANNOTATIONS = {
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
  timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
  signature: 'dev.cosignproject.cosign/signature',
} as const;

const BUNDLE_V01 = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
const PEM_BEGIN = '-----BEGIN CERTIFICATE-----';
const PEM_END = '-----END CERTIFICATE-----';
const MAX_CHAIN = 10;

/** The document to verify for one `.att` layer: the envelope, or a bundle built around it. */
export function cosignAttestationDocument(
  envelope: Uint8Array,
  annotations: Record<string, string>,
): Uint8Array {
  const certificate = annotations[COSIGN_ANNOTATIONS.certificate];
  if (certificate === undefined || certificate === '') return envelope;
  const certificates = [
    ...pemCertificates(certificate).slice(0, 1),
    ...pemCertificates(annotations[COSIGN_ANNOTATIONS.chain] ?? ''),
  ].slice(0, MAX_CHAIN);
  const tlogEntry = rekorEntry(annotations[COSIGN_ANNOTATIONS.bundle]);
  const timestamp = rfc3161(annotations[COSIGN_ANNOTATIONS.timestamp]);
  let dsseEnvelope: unknown;
  try {
    dsseEnvelope = JSON.parse(Buffer.from(envelope).toString('utf8'));
  } catch {
    // Not JSON: the verifier reports the envelope as malformed.
    return envelope;
  }
  const bundle = {
    mediaType: BUNDLE_V01,
    verificationMaterial: {
      x509CertificateChain: { certificates: certificates.map((rawBytes) => ({ rawBytes })) },
      tlogEntries: tlogEntry === undefined ? [] : [tlogEntry],
      ...(timestamp === undefined
        ? {}
        : { timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: timestamp }] } }),
    },
    dsseEnvelope,
  };
  return Buffer.from(JSON.stringify(bundle));
}

/** Base64 DER of each PEM certificate, in order (at most MAX_CHAIN). */
function pemCertificates(pem: string): string[] {
  const out: string[] = [];
  let at = 0;
  while (out.length < MAX_CHAIN) {
    const begin = pem.indexOf(PEM_BEGIN, at);
    if (begin === -1) break;
    const end = pem.indexOf(PEM_END, begin);
    if (end === -1) break;
    out.push(pem.slice(begin + PEM_BEGIN.length, end).replace(/\s+/g, ''));
    at = end + PEM_END.length;
  }
  return out;
}

/**
 * cosign's `bundle` annotation (a Rekor "RekorBundle"):
 * `{"SignedEntryTimestamp": b64, "Payload": {"body": b64, "integratedTime": n, "logIndex": n, "logID": hex}}`.
 */
function rekorEntry(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    const doc = JSON.parse(text) as {
      SignedEntryTimestamp?: unknown;
      Payload?: { body?: unknown; integratedTime?: unknown; logIndex?: unknown; logID?: unknown };
    };
    const p = doc.Payload;
    if (
      typeof doc.SignedEntryTimestamp !== 'string' ||
      typeof p?.body !== 'string' ||
      typeof p.integratedTime !== 'number' ||
      typeof p.logIndex !== 'number' ||
      typeof p.logID !== 'string' ||
      !/^[0-9a-f]{2,128}$/i.test(p.logID)
    ) {
      return undefined;
    }
    const body = JSON.parse(Buffer.from(p.body, 'base64').toString('utf8')) as {
      kind?: unknown;
      apiVersion?: unknown;
    };
    if (typeof body.kind !== 'string' || typeof body.apiVersion !== 'string') return undefined;
    return {
      logIndex: String(p.logIndex),
      logId: { keyId: Buffer.from(p.logID, 'hex').toString('base64') },
      kindVersion: { kind: body.kind, version: body.apiVersion },
      integratedTime: String(p.integratedTime),
      inclusionPromise: { signedEntryTimestamp: doc.SignedEntryTimestamp },
      canonicalizedBody: p.body,
    };
  } catch {
    return undefined;
  }
}

/** cosign's `rfc3161timestamp` annotation: `{"SignedRFC3161Timestamp": b64}`. */
function rfc3161(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    const doc = JSON.parse(text) as { SignedRFC3161Timestamp?: unknown };
    return typeof doc.SignedRFC3161Timestamp === 'string' ? doc.SignedRFC3161Timestamp : undefined;
  } catch {
    return undefined;
  }
}
