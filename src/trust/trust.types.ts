import type { KeyObject } from 'node:crypto';
import type { X509Certificate } from '@sigstore/core';

/** A [start, end] window; `end` absent means still valid. */
export interface ValidityPeriod {
  start: Date;
  end?: Date;
}

/** A Fulcio CA or a timestamp authority: its chain, leaf (issuing) first, root last. */
export interface CertificateAuthority {
  uri: string;
  subject: string;
  chain: X509Certificate[];
  /** Public keys of `chain`, created once. */
  chainKeys: KeyObject[];
  validFor: ValidityPeriod;
}

/** A transparency log or a certificate-transparency log. */
export interface LogAuthority {
  baseUrl: string;
  /** Log ID: SHA-256 of the DER SubjectPublicKeyInfo (or the value the trusted root gives). */
  logId: Buffer;
  publicKey: KeyObject;
  validFor: ValidityPeriod;
}

/** A public key for key-signed bundles and envelopes (npm registry, `--key`). */
export interface TrustedKey {
  /** Hint / key id the signature names (npm: `SHA256:...`). */
  keyId: string;
  publicKey: KeyObject;
  validFor: ValidityPeriod;
  /** npm registry keys carry a usage (`npm:attestations`, `npm:signatures`). */
  usage?: string;
}

/** Everything verification trusts, parsed once and reused for every verification. */
export interface TrustMaterial {
  /** Digest of every input; part of every cache key, so new trust material invalidates old results. */
  revision: string;
  certificateAuthorities: CertificateAuthority[];
  timestampAuthorities: CertificateAuthority[];
  tlogs: LogAuthority[];
  ctlogs: LogAuthority[];
  keys: TrustedKey[];
}
