// Signature primitives: plain signatures, signatures over a prehashed digest
// (digest-only verification of message-signature bundles), and DSSE's PAE.
import {
  constants,
  createHash,
  publicDecrypt,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { VerificationError } from './error.ts';
import type { HashAlgorithm } from './bundle.ts';

const hashCache = new WeakMap<KeyObject, HashAlgorithm | null>();

/** The hash a key signs with by default: its curve's size for ECDSA, SHA-256 for RSA, none for EdDSA. */
export function defaultHash(key: KeyObject): HashAlgorithm | null {
  const cached = hashCache.get(key);
  if (cached !== undefined) return cached;
  let hash: HashAlgorithm | null;
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      hash = curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
      break;
    }
    case 'ed25519':
    case 'ed448':
      hash = null;
      break;
    default:
      hash = 'sha256';
  }
  hashCache.set(key, hash);
  return hash;
}

/** Verifies `signature` over `data` with `key`; false on any failure, never throws. */
export function verifySignature(
  data: Uint8Array,
  key: KeyObject,
  signature: Uint8Array,
  hash: HashAlgorithm | null = defaultHash(key),
): boolean {
  try {
    return verify(hash, data, key, signature);
  } catch {
    return false;
  }
}

// DigestInfo prefixes for RSASSA-PKCS1-v1_5 (RFC 8017 section 9.2, note 1).
const DIGEST_INFO_PREFIX: Record<HashAlgorithm, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

const CURVES = { prime256v1: p256, secp384r1: p384, secp521r1: p521 } as const;

/**
 * Verifies a signature made over `digest` (the artifact's hash) without the
 * artifact itself. ECDSA and RSA PKCS#1 v1.5 sign the hash, so this is exact;
 * Ed25519 signs the message itself and needs the artifact's bytes.
 */
export function verifyPrehashed(
  digest: Buffer,
  algorithm: HashAlgorithm,
  key: KeyObject,
  signature: Buffer,
): boolean {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curveName = key.asymmetricKeyDetails?.namedCurve as keyof typeof CURVES | undefined;
      const curve = curveName === undefined ? undefined : CURVES[curveName];
      if (curve === undefined) {
        throw new VerificationError(
          'UNSUPPORTED_ALGORITHM',
          `ECDSA curve ${curveName ?? 'unknown'} is not supported`,
        );
      }
      const jwk = key.export({ format: 'jwk' });
      const point = Buffer.concat([
        Buffer.from([4]),
        Buffer.from(jwk.x ?? '', 'base64url'),
        Buffer.from(jwk.y ?? '', 'base64url'),
      ]);
      try {
        return curve.verify(signature, digest, point, {
          prehash: false,
          format: 'der',
          lowS: false,
        });
      } catch {
        return false;
      }
    }
    case 'rsa': {
      let decrypted: Buffer;
      try {
        decrypted = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
      } catch {
        return false;
      }
      const expected = Buffer.concat([DIGEST_INFO_PREFIX[algorithm], digest]);
      return decrypted.length === expected.length && timingSafeEqual(decrypted, expected);
    }
    default:
      throw new VerificationError(
        'ARTIFACT_BYTES_REQUIRED',
        `a ${key.asymmetricKeyType ?? 'unknown'} signature covers the artifact itself, not its digest: give the artifact's bytes, not only its digest`,
      );
  }
}

/** DSSE pre-authentication encoding (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md). */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ]);
}

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Constant-time equality for byte strings of possibly different lengths. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
