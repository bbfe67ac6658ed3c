// The canonicalized bodies Rekor stores for each entry kind: what a bundle's
// tlog entry carries and what its inclusion proof and SET cover. Shapes follow
// production bundles (test/fixtures/sigstore-js) and the request builders in
// @sigstore/sign (witness/tlog/entry.js).
import { createHash } from 'node:crypto';
import { json } from '@sigstore/core';

export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512';

/** Who verifies an entry's signature: the signing certificate or the public key. */
export interface EntryVerifier {
  /** PEM of the leaf certificate or of the public key (SPKI). */
  pem: string;
  /** DER of the same. */
  der: Buffer;
  isCertificate: boolean;
  /** protobuf PublicKeyDetails name, for Rekor v2 entries. */
  keyDetails: string;
}

export interface SignedEnvelope {
  payload: Buffer;
  payloadType: string;
  sig: Buffer;
  keyid: string;
  /** The envelope as the client sent it to Rekor (JSON.stringify of its serialized form). */
  submitted: string;
}

export interface RekorBody {
  kind: string;
  apiVersion: string;
  body: Buffer;
}

const V2_HASH: Record<DigestAlgorithm, string> = {
  sha256: 'SHA2_256',
  sha384: 'SHA2_384',
  sha512: 'SHA2_512',
};

export function hashedRekordV001(
  algorithm: DigestAlgorithm,
  digest: Buffer,
  signature: Buffer,
  verifier: EntryVerifier,
): RekorBody {
  return canonical('hashedrekord', '0.0.1', {
    data: { hash: { algorithm, value: digest.toString('hex') } },
    signature: { content: signature.toString('base64'), publicKey: { content: b64(verifier.pem) } },
  });
}

// Rekor computes envelopeHash over the envelope string it received.
export function dsseV001(env: SignedEnvelope, verifier: EntryVerifier): RekorBody {
  return canonical('dsse', '0.0.1', {
    envelopeHash: { algorithm: 'sha256', value: sha256hex(env.submitted) },
    payloadHash: { algorithm: 'sha256', value: sha256hex(env.payload) },
    signatures: [{ signature: env.sig.toString('base64'), verifier: b64(verifier.pem) }],
  });
}

// intoto 0.0.2 stores the envelope without its payload, each signature
// base64'd a second time; `hash` covers the canonical envelope with the
// payload and the verifier PEM in clear.
export function intotoV002(env: SignedEnvelope, verifier: EntryVerifier): RekorBody {
  const keyid = env.keyid === '' ? {} : { keyid: env.keyid };
  const hashed = {
    payloadType: env.payloadType,
    payload: env.payload.toString('base64'),
    signatures: [{ ...keyid, sig: env.sig.toString('base64'), publicKey: verifier.pem }],
  };
  return canonical('intoto', '0.0.2', {
    content: {
      envelope: {
        payloadType: env.payloadType,
        signatures: [
          { ...keyid, publicKey: b64(verifier.pem), sig: b64(env.sig.toString('base64')) },
        ],
      },
      hash: { algorithm: 'sha256', value: sha256hex(json.canonicalize(hashed)) },
      payloadHash: { algorithm: 'sha256', value: sha256hex(env.payload) },
    },
  });
}

export function hashedRekordV002(
  algorithm: DigestAlgorithm,
  digest: Buffer,
  signature: Buffer,
  verifier: EntryVerifier,
): RekorBody {
  return canonical('hashedrekord', '0.0.2', {
    hashedRekordV002: {
      data: { algorithm: V2_HASH[algorithm], digest: digest.toString('base64') },
      signature: { content: signature.toString('base64'), verifier: v2Verifier(verifier) },
    },
  });
}

export function dsseV002(env: SignedEnvelope, verifier: EntryVerifier): RekorBody {
  return canonical('dsse', '0.0.2', {
    dsseV002: {
      payloadHash: { algorithm: 'SHA2_256', digest: sha256(env.payload).toString('base64') },
      signatures: [{ content: env.sig.toString('base64'), verifier: v2Verifier(verifier) }],
    },
  });
}

function v2Verifier(verifier: EntryVerifier) {
  const raw = { rawBytes: verifier.der.toString('base64') };
  return verifier.isCertificate
    ? { keyDetails: verifier.keyDetails, x509Certificate: raw }
    : { keyDetails: verifier.keyDetails, publicKey: raw };
}

function canonical(kind: string, apiVersion: string, spec: object): RekorBody {
  const body = Buffer.from(json.canonicalize({ apiVersion, kind, spec }));
  return { kind, apiVersion, body };
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

function sha256(data: Buffer | string): Buffer {
  return createHash('sha256').update(data).digest();
}

function sha256hex(data: Buffer | string): string {
  return sha256(data).toString('hex');
}
