// Pure construction of TrustMaterial from already-read documents: Sigstore
// trusted roots (protobuf-JSON, https://github.com/sigstore/protobuf-specs
// trustroot.proto), PEM public keys and the npm registry's keys document.
// Everything is parsed and every key object created here, once, so that
// verification never re-parses trust material.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import { TrustError } from './error.ts';
import type {
  CertificateAuthority,
  LogAuthority,
  TrustMaterial,
  TrustedKey,
  ValidityPeriod,
} from './trust.types.ts';

export const TRUSTED_ROOT_MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.trustedroot';

export interface KeyInput {
  /** The hint or key id a bundle names; for `--key` the caller picks one (the conformance suite uses any). */
  keyId: string;
  /** PEM `PUBLIC KEY` (SPKI) text. */
  pem: string;
  validFor?: ValidityPeriod;
}

export interface TrustInputs {
  /** Parsed trusted_root.json documents; several roots may be trusted at once. */
  trustedRoots?: unknown[];
  keys?: KeyInput[];
  /** The npm registry's keys document(s): `{keys:[...]}` in the registry or TUF shape. */
  npmKeys?: unknown[];
}

export function buildTrustMaterial(inputs: TrustInputs): TrustMaterial {
  const material: TrustMaterial = {
    revision: revisionOf(inputs),
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    keys: [],
  };
  (inputs.trustedRoots ?? []).forEach((root, i) =>
    addTrustedRoot(material, root, `trustedRoots[${i}]`),
  );
  (inputs.keys ?? []).forEach((k, i) => material.keys.push(keyFromPem(k, `keys[${i}]`)));
  (inputs.npmKeys ?? []).forEach((doc, i) =>
    material.keys.push(...npmKeysFrom(doc, `npmKeys[${i}]`)),
  );
  return material;
}

function revisionOf(inputs: TrustInputs): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(inputs));
  return `sha256:${hash.digest('hex')}`;
}

function addTrustedRoot(material: TrustMaterial, root: unknown, path: string): void {
  const obj = asObject(root, path);
  const mediaType = obj.mediaType;
  if (typeof mediaType !== 'string' || !mediaType.startsWith(TRUSTED_ROOT_MEDIA_TYPE_PREFIX)) {
    fail(
      `${path}.mediaType must be a Sigstore trusted root media type, got ${describe(mediaType)}`,
    );
  }
  material.tlogs.push(
    ...asArray(obj.tlogs, `${path}.tlogs`).map((t, i) => logAuthority(t, `${path}.tlogs[${i}]`)),
  );
  material.ctlogs.push(
    ...asArray(obj.ctlogs, `${path}.ctlogs`).map((t, i) => logAuthority(t, `${path}.ctlogs[${i}]`)),
  );
  material.certificateAuthorities.push(
    ...asArray(obj.certificateAuthorities, `${path}.certificateAuthorities`).map((c, i) =>
      certificateAuthority(c, `${path}.certificateAuthorities[${i}]`),
    ),
  );
  material.timestampAuthorities.push(
    ...asArray(obj.timestampAuthorities, `${path}.timestampAuthorities`).map((c, i) =>
      certificateAuthority(c, `${path}.timestampAuthorities[${i}]`),
    ),
  );
}

function logAuthority(value: unknown, path: string): LogAuthority {
  const obj = asObject(value, path);
  const publicKey = asObject(obj.publicKey, `${path}.publicKey`);
  const der = base64(publicKey.rawBytes, `${path}.publicKey.rawBytes`);
  const pkcs1 =
    typeof publicKey.keyDetails === 'string' && publicKey.keyDetails.startsWith('PKCS1_');
  const key = spkiKey(der, `${path}.publicKey.rawBytes`, pkcs1 ? 'pkcs1' : 'spki');
  const logIdObj = obj.logId === undefined ? undefined : asObject(obj.logId, `${path}.logId`);
  const logId =
    logIdObj === undefined
      ? createHash('sha256').update(der).digest()
      : base64(logIdObj.keyId, `${path}.logId.keyId`);
  return {
    baseUrl: typeof obj.baseUrl === 'string' ? obj.baseUrl : '',
    logId,
    publicKey: key,
    validFor: validity(publicKey.validFor, `${path}.publicKey.validFor`),
  };
}

function certificateAuthority(value: unknown, path: string): CertificateAuthority {
  const obj = asObject(value, path);
  const certChain = asObject(obj.certChain, `${path}.certChain`);
  const certs = asArray(certChain.certificates, `${path}.certChain.certificates`);
  if (certs.length === 0) fail(`${path}.certChain.certificates must not be empty`);
  const parsed = certs.map((c, i) => {
    const p = `${path}.certChain.certificates[${i}]`;
    const der = base64(asObject(c, p).rawBytes, `${p}.rawBytes`);
    try {
      return X509Certificate.parse(der as Buffer<ArrayBuffer>);
    } catch (err) {
      return fail(`${p} is not a DER X.509 certificate`, err);
    }
  });
  const subject = obj.subject === undefined ? {} : asObject(obj.subject, `${path}.subject`);
  const chain = pathOrder(parsed, path);
  return {
    uri: typeof obj.uri === 'string' ? obj.uri : '',
    subject: [subject.organization, subject.commonName]
      .filter((s) => typeof s === 'string')
      .join('/'),
    chain,
    chainKeys: chain.map((cert, i) =>
      spkiKey(cert.publicKey, `${path}.certChain.certificates[${i}]`),
    ),
    validFor: validity(obj.validFor, `${path}.validFor`),
  };
}

// The spec orders a chain issuing certificate first, root last, but real roots
// do not always (sigstore-js's test roots list the root first). Put the chain in
// path order by following issuer -> subject links from the one certificate that
// issues none of the others.
function pathOrder(certs: X509Certificate[], path: string): X509Certificate[] {
  const same = (a: Buffer, b: Buffer) => a.equals(b);
  const bottoms = certs.filter(
    (c) => !certs.some((o) => o !== c && same(o.issuer, c.subject) && !same(o.subject, c.subject)),
  );
  if (bottoms.length !== 1) fail(`${path}.certChain is not a single certificate path`);
  const ordered = [bottoms[0]!];
  while (ordered.length < certs.length) {
    const last = ordered[ordered.length - 1]!;
    const next = certs.find((c) => !ordered.includes(c) && same(c.subject, last.issuer));
    if (next === undefined) fail(`${path}.certChain is not a single certificate path`);
    ordered.push(next);
  }
  return ordered;
}

function keyFromPem(input: KeyInput, path: string): TrustedKey {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(input.pem);
  } catch (err) {
    return fail(`${path} is not a PEM public key`, err);
  }
  return { keyId: input.keyId, publicKey, validFor: input.validFor ?? { start: new Date(0) } };
}

// The npm registry publishes its keys as `{keys:[{keyid, keytype, scheme, key, expires}]}`
// (https://registry.npmjs.org/-/npm/v1/keys); Sigstore's TUF repository carries them as
// `{keys:[{keyId, keyUsage, publicKey:{rawBytes, keyDetails, validFor}}]}`. Accept both.
function npmKeysFrom(doc: unknown, path: string): TrustedKey[] {
  const keys = asArray(asObject(doc, path).keys, `${path}.keys`);
  return keys.map((k, i) => {
    const p = `${path}.keys[${i}]`;
    const obj = asObject(k, p);
    if (typeof obj.keyId === 'string') {
      const pk = asObject(obj.publicKey, `${p}.publicKey`);
      const usage = typeof obj.keyUsage === 'string' ? obj.keyUsage : undefined;
      return {
        keyId: obj.keyId,
        publicKey: spkiKey(base64(pk.rawBytes, `${p}.publicKey.rawBytes`), `${p}.publicKey`),
        validFor: validity(pk.validFor, `${p}.publicKey.validFor`),
        ...(usage === undefined ? {} : { usage }),
      };
    }
    if (typeof obj.keyid !== 'string') fail(`${p} has neither keyId nor keyid`);
    const expires = obj.expires;
    return {
      keyId: obj.keyid,
      publicKey: spkiKey(base64(obj.key, `${p}.key`), `${p}.key`),
      validFor: {
        start: new Date(0),
        ...(typeof expires === 'string' ? { end: date(expires, `${p}.expires`) } : {}),
      },
    };
  });
}

function validity(value: unknown, path: string): ValidityPeriod {
  if (value === undefined) return { start: new Date(0) };
  const obj = asObject(value, path);
  const start = obj.start === undefined ? new Date(0) : date(obj.start, `${path}.start`);
  return obj.end === undefined ? { start } : { start, end: date(obj.end, `${path}.end`) };
}

function date(value: unknown, path: string): Date {
  const d = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(d.getTime())) fail(`${path} must be an RFC 3339 time, got ${describe(value)}`);
  return d;
}

function spkiKey(der: Buffer, path: string, type: 'spki' | 'pkcs1' = 'spki'): KeyObject {
  try {
    return createPublicKey({ key: der, format: 'der', type });
  } catch (err) {
    return fail(
      `${path} is not a DER ${type === 'spki' ? 'SubjectPublicKeyInfo' : 'PKCS#1 public key'}`,
      err,
    );
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function base64(value: unknown, path: string): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) fail(`${path} must be base64`);
  return Buffer.from(value, 'base64');
}

function asObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`${path} must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

function asArray(value: unknown, path: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(`${path} must be an array, got ${describe(value)}`);
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value;
}

function fail(message: string, cause?: unknown): never {
  throw new TrustError('TRUST_MATERIAL_INVALID', message, cause);
}
