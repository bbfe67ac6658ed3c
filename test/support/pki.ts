// A throwaway Sigstore PKI for tests: a Fulcio-style CA with its CT log,
// Rekor v1 and v2 logs, an RFC 3161 timestamp authority and plain signing
// keys, all generated in-process, plus the trusted_root.json that trusts them.
// The bundles it signs have the shape of production ones and verify with the
// reference implementation, @sigstore/verify (see pki.test.ts).
//
// Built on @sigstore/mock's CA, CT log and TSA, which fixes a few things:
// certificates carry URI SANs only (no e-mail identities), the CA has no
// intermediate, and the mock's root certificates are valid from the moment
// they are created for one year, so `now` must fall in that year.
import {
  createHash,
  generateKeyPairSync,
  randomInt,
  sign,
  type KeyObject,
  type KeyPairKeyObjectResult,
} from 'node:crypto';
import {
  bundleToJSON,
  envelopeToJSON,
  type Bundle,
  type SerializedBundle,
  type TransparencyLogEntry,
} from '@sigstore/bundle';
import { dsse, pem, X509Certificate } from '@sigstore/core';
import { initializeCA, initializeCTLog, initializeTSA } from '@sigstore/mock';
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import {
  dsseV001,
  dsseV002,
  hashedRekordV001,
  hashedRekordV002,
  intotoV002,
  type DigestAlgorithm,
  type EntryVerifier,
  type RekorBody,
  type SignedEnvelope,
} from './rekor.ts';
import { createTestLog, type TestLog } from './tlog.ts';

export type { DigestAlgorithm } from './rekor.ts';

/** Fulcio certificate extension OID -> value. */
export interface Claims {
  [oid: string]: string;
}

export interface Validity {
  start: Date;
  end?: Date;
}

export interface TestPkiOptions {
  /** Clock for certificates, SCTs, integrated times and timestamps, rounded down to the second. Default: when the PKI is created. */
  now?: Date;
  /** validFor windows written into the trusted root. Default: from the PKI's creation, open-ended. */
  caValidFor?: Validity;
  tlogValidFor?: Validity;
  ctlogValidFor?: Validity;
  tsaValidFor?: Validity;
}

export type KeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519' | 'rsa';

export interface KeySigner {
  key: KeyType;
  /** The bundle's publicKey.hint (and a bare envelope's keyid). Default: the key type. */
  hint?: string;
}

export type BundleVersion = '0.1' | '0.2' | '0.3' | '0.3-legacy';
export type TlogKind = 'rekor-v1' | 'rekor-v2' | 'none';
export type EntryKind = 'hashedrekord' | 'dsse' | 'intoto';
export type ProofKind = 'inclusion-proof' | 'inclusion-promise' | 'both';

/**
 * Combinations Rekor cannot produce throw (a DSSE hashedrekord, an intoto
 * entry or an inclusion promise on Rekor v2, an e-mail SAN from the mock CA).
 * Ones the bundle spec forbids are produced as asked, to serve as broken
 * fixtures: a v0.1 bundle without a promise, a v0.2+ one without a proof, a
 * v0.3 one with a certificate chain, a keyless one with no verified time.
 */
export interface SignOptions {
  /** Default '0.3'. '0.3-legacy' is 'application/vnd.dev.sigstore.bundle+json;version=0.3'. */
  bundleVersion?: BundleVersion;
  /** Default 'rekor-v1'. */
  tlog?: TlogKind;
  /** Default hashedrekord for message signatures, dsse for envelopes. */
  entryKind?: EntryKind;
  /** Default 'both' on Rekor v1 (as sigstore-js writes), 'inclusion-proof' on Rekor v2. */
  proof?: ProofKind;
  /** Add an RFC 3161 timestamp. Default: when there is no Rekor v1 entry (which gives integrated time). */
  timestamp?: boolean;
  /** Default 'keyless': an ephemeral P-256 key certified by the CA. */
  signer?: 'keyless' | KeySigner;
  /** Keyless identity (a URI SAN). Default DEFAULT_SAN. */
  san?: string;
  /** Fulcio extensions in the leaf certificate, used as given. Default DEFAULT_CLAIMS. */
  claims?: Claims;
  /** Put leaf + CA root in x509CertificateChain instead of the leaf alone. */
  fullChain?: boolean;
  /** Embed an SCT from the trusted CT log. Default true. */
  sct?: boolean;
  /** Hash the signature is made with (Ed25519 signs the bytes themselves); for a message also its messageDigest. Default sha256. */
  digestAlgorithm?: DigestAlgorithm;
}

export interface TestPublicKey {
  pem: string;
  keyType: KeyType;
  /** protobuf PublicKeyDetails name. */
  keyDetails: string;
}

export interface DsseEnvelopeJSON {
  payload: string;
  payloadType: string;
  signatures: { keyid: string; sig: string }[];
}

export interface SerializedValidity {
  start: string;
  end?: string;
}

export interface SerializedLog {
  baseUrl: string;
  hashAlgorithm: string;
  publicKey: { rawBytes: string; keyDetails: string; validFor: SerializedValidity };
  logId: { keyId: string };
}

export interface SerializedAuthority {
  subject: { organization: string; commonName: string };
  uri: string;
  certChain: { certificates: { rawBytes: string }[] };
  validFor: SerializedValidity;
}

/** trusted_root.json, protobuf-JSON form. */
export interface SerializedTrustedRoot {
  mediaType: string;
  tlogs: SerializedLog[];
  certificateAuthorities: SerializedAuthority[];
  ctlogs: SerializedLog[];
  timestampAuthorities: SerializedAuthority[];
}

export interface TestPki {
  now: Date;
  /** Trusts the CA (root only), the Rekor v1 and v2 logs, the CT log and the TSA. */
  trustedRoot: SerializedTrustedRoot;
  /** Keys for key-signed bundles, by hint. One per key type from the start (hint = type); signing with a new hint adds one. */
  publicKeys: Record<string, TestPublicKey>;
  signMessage(artifact: Buffer, opts?: SignOptions): Promise<SerializedBundle>;
  signDsse(payload: Buffer, payloadType: string, opts?: SignOptions): Promise<SerializedBundle>;
  /** A bare DSSE envelope (no bundle), keyid = the signer's hint. */
  signEnvelope(
    payload: Buffer,
    payloadType: string,
    signer: KeySigner,
    digestAlgorithm?: DigestAlgorithm,
  ): DsseEnvelopeJSON;
}

const FULCIO_OID_PREFIX = '1.3.6.1.4.1.57264.1.';

/** https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md */
export const FULCIO_OIDS = {
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  githubWorkflowTrigger: '1.3.6.1.4.1.57264.1.2',
  githubWorkflowSha: '1.3.6.1.4.1.57264.1.3',
  githubWorkflowName: '1.3.6.1.4.1.57264.1.4',
  githubWorkflowRepository: '1.3.6.1.4.1.57264.1.5',
  githubWorkflowRef: '1.3.6.1.4.1.57264.1.6',
  issuer: '1.3.6.1.4.1.57264.1.8',
  buildSignerURI: '1.3.6.1.4.1.57264.1.9',
  buildSignerDigest: '1.3.6.1.4.1.57264.1.10',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryURI: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  sourceRepositoryIdentifier: '1.3.6.1.4.1.57264.1.15',
  sourceRepositoryOwnerURI: '1.3.6.1.4.1.57264.1.16',
  sourceRepositoryOwnerIdentifier: '1.3.6.1.4.1.57264.1.17',
  buildConfigURI: '1.3.6.1.4.1.57264.1.18',
  buildConfigDigest: '1.3.6.1.4.1.57264.1.19',
  buildTrigger: '1.3.6.1.4.1.57264.1.20',
  runInvocationURI: '1.3.6.1.4.1.57264.1.21',
  sourceRepositoryVisibilityAtSigning: '1.3.6.1.4.1.57264.1.22',
} as const;

export const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';
export const DEFAULT_SAN =
  'https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main';
/** The issuer both ways Fulcio writes it: 1.1 (raw, deprecated) and 1.8 (UTF8String). */
export const DEFAULT_CLAIMS: Claims = {
  [FULCIO_OIDS.issuerV1]: DEFAULT_ISSUER,
  [FULCIO_OIDS.issuer]: DEFAULT_ISSUER,
};
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
const BUNDLE_MEDIA_TYPES: Record<BundleVersion, string> = {
  '0.1': 'application/vnd.dev.sigstore.bundle+json;version=0.1',
  '0.2': 'application/vnd.dev.sigstore.bundle+json;version=0.2',
  '0.3': 'application/vnd.dev.sigstore.bundle.v0.3+json',
  '0.3-legacy': 'application/vnd.dev.sigstore.bundle+json;version=0.3',
};
const MESSAGE_DIGEST: Record<DigestAlgorithm, HashAlgorithm> = {
  sha256: HashAlgorithm.SHA2_256,
  sha384: HashAlgorithm.SHA2_384,
  sha512: HashAlgorithm.SHA2_512,
};
const KEY_TYPES: Record<KeyType, { keyDetails: string; generate: () => KeyPairKeyObjectResult }> = {
  'ecdsa-p256': {
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    generate: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  },
  'ecdsa-p384': {
    keyDetails: 'PKIX_ECDSA_P384_SHA_384',
    generate: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  },
  ed25519: { keyDetails: 'PKIX_ED25519', generate: () => generateKeyPairSync('ed25519') },
  rsa: {
    keyDetails: 'PKIX_RSA_PKCS1V15_2048_SHA256',
    generate: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
  },
};

const FULCIO_URL = 'https://fulcio.sigstore.mock';
const CTFE_URL = 'https://ctfe.sigstore.mock/test';
const REKOR_V1_URL = 'https://rekor.sigstore.mock';
const REKOR_V2_URL = 'https://log2025-1.rekor.sigstore.mock';
const TSA_URL = 'https://timestamp.sigstore.mock/api/v1/timestamp';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const OID_SIGSTORE_TSA_POLICY = '1.3.6.1.4.1.57264.2';

type Content =
  | { $case: 'messageSignature'; artifact: Buffer }
  | { $case: 'dsseEnvelope'; payload: Buffer; payloadType: string };

type Signed =
  | { $case: 'messageSignature'; digest: Buffer; signature: Buffer }
  | { $case: 'dsseEnvelope'; envelope: SignedEnvelope };

interface Resolved {
  version: BundleVersion;
  tlog: TlogKind;
  entryKind: EntryKind;
  promise: boolean;
  proof: boolean;
  timestamp: boolean;
  signer: 'keyless' | KeySigner;
  san: string;
  claims: Claims;
  fullChain: boolean;
  sct: boolean;
  digest: DigestAlgorithm;
}

interface Identity {
  privateKey: KeyObject;
  verifier: EntryVerifier;
  material: Bundle['verificationMaterial']['content'];
}

export async function createTestPki(opts: TestPkiOptions = {}): Promise<TestPki> {
  // The mocks read this clock whenever they issue something; it is set to
  // `now` once their roots exist, because those are stamped with the wall clock.
  const clock = new Date();
  const ctlogKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const tsaKeys = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const ctlog = await initializeCTLog(ctlogKeys, clock);
  const ca = await initializeCA(caKeys, ctlog, clock);
  // Same key and name as `ca`, so its leaves chain to `ca`'s root, but no CT log: leaves without SCT.
  const caWithoutCT = await initializeCA(caKeys, undefined, clock);
  const tsa = await initializeTSA(tsaKeys, clock);
  const caRoot = toBuffer(ca.rootCertificate);
  const tsaChain = [toBuffer(tsa.intCertificate), toBuffer(tsa.rootCertificate)];

  // Whole seconds, as production timestamps are: @sigstore/core cannot parse a
  // GeneralizedTime whose fraction has trailing zeros dropped (as DER wants).
  const now = new Date(Math.floor((opts.now ?? new Date()).getTime() / 1000) * 1000);
  for (const der of [caRoot, ...tsaChain]) {
    const cert = X509Certificate.parse(der);
    if (!cert.validForDate(now)) {
      throw new Error(
        `now (${now.toISOString()}) is outside the mock's certificate validity ` +
          `${cert.notBefore.toISOString()}..${cert.notAfter.toISOString()}`,
      );
    }
  }
  clock.setTime(now.getTime());
  const created = { start: X509Certificate.parse(caRoot).notBefore };

  const rekorV1 = createTestLog(
    'rekor-v1',
    REKOR_V1_URL,
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  );
  const rekorV2 = createTestLog(
    'rekor-v2',
    REKOR_V2_URL,
    generateKeyPairSync('ed25519').privateKey,
  );

  const trustedRoot: SerializedTrustedRoot = {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [rekorV1, rekorV2].map((log) =>
      serializedLog(
        log.baseUrl,
        spki(log.publicKey),
        log.keyDetails,
        log.logId,
        opts.tlogValidFor ?? created,
      ),
    ),
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: FULCIO_URL,
        certChain: { certificates: [{ rawBytes: caRoot.toString('base64') }] },
        validFor: serializedValidity(opts.caValidFor ?? created),
      },
    ],
    ctlogs: [
      serializedLog(
        CTFE_URL,
        ctlog.publicKey,
        'PKIX_ECDSA_P256_SHA_256',
        toBuffer(ctlog.logID),
        opts.ctlogValidFor ?? created,
      ),
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: TSA_URL,
        // Signing certificate first, root last.
        certChain: { certificates: tsaChain.map((der) => ({ rawBytes: der.toString('base64') })) },
        validFor: serializedValidity(opts.tsaValidFor ?? created),
      },
    ],
  };

  const keys = new Map<string, { keyType: KeyType; privateKey: KeyObject }>();
  const publicKeys: Record<string, TestPublicKey> = {};
  for (const keyType of Object.keys(KEY_TYPES) as KeyType[]) signingKey({ key: keyType });

  return {
    now,
    trustedRoot,
    publicKeys,
    signMessage: (artifact, signOpts = {}) =>
      signBundle({ $case: 'messageSignature', artifact }, signOpts),
    signDsse: (payload, payloadType, signOpts = {}) =>
      signBundle({ $case: 'dsseEnvelope', payload, payloadType }, signOpts),
    signEnvelope(payload, payloadType, signer, digestAlgorithm = 'sha256') {
      const { privateKey, hint } = signingKey(signer);
      const sig = signBytes(
        dsse.preAuthEncoding(payloadType, payload),
        privateKey,
        digestAlgorithm,
      );
      return {
        payload: payload.toString('base64'),
        payloadType,
        signatures: [{ keyid: hint, sig: sig.toString('base64') }],
      };
    },
  };

  function signingKey(signer: KeySigner): { privateKey: KeyObject; hint: string } {
    const hint = signer.hint ?? signer.key;
    const existing = keys.get(hint);
    if (existing !== undefined) {
      if (existing.keyType !== signer.key) {
        throw new Error(`hint ${hint} already names a ${existing.keyType} key`);
      }
      return { privateKey: existing.privateKey, hint };
    }
    const { privateKey, publicKey } = KEY_TYPES[signer.key].generate();
    keys.set(hint, { keyType: signer.key, privateKey });
    publicKeys[hint] = {
      pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      keyType: signer.key,
      keyDetails: KEY_TYPES[signer.key].keyDetails,
    };
    return { privateKey, hint };
  }

  async function signBundle(content: Content, signOpts: SignOptions): Promise<SerializedBundle> {
    const o = resolve(content, signOpts);
    const identity = o.signer === 'keyless' ? await keylessIdentity(o) : keyIdentity(o.signer);
    let signed: Signed;
    let bundleContent: Bundle['content'];
    switch (content.$case) {
      case 'messageSignature': {
        const digest = createHash(o.digest).update(content.artifact).digest();
        const signature = signBytes(content.artifact, identity.privateKey, o.digest);
        signed = { $case: 'messageSignature', digest, signature };
        bundleContent = {
          $case: 'messageSignature',
          messageSignature: {
            messageDigest: { algorithm: MESSAGE_DIGEST[o.digest], digest },
            signature,
          },
        };
        break;
      }
      case 'dsseEnvelope': {
        const pae = dsse.preAuthEncoding(content.payloadType, content.payload);
        const sig = signBytes(pae, identity.privateKey, o.digest);
        const dsseEnvelope = {
          payload: content.payload,
          payloadType: content.payloadType,
          signatures: [{ sig, keyid: '' }],
        };
        const submitted = JSON.stringify(envelopeToJSON(dsseEnvelope));
        const { payload, payloadType } = content;
        signed = {
          $case: 'dsseEnvelope',
          envelope: { payload, payloadType, sig, keyid: '', submitted },
        };
        bundleContent = { $case: 'dsseEnvelope', dsseEnvelope };
        break;
      }
    }
    const signature = signed.$case === 'messageSignature' ? signed.signature : signed.envelope.sig;
    const tlogEntries = o.tlog === 'none' ? [] : [logEntry(o, signed, identity.verifier)];
    const timestamp = o.timestamp ? await rfc3161Timestamp(signature) : undefined;
    const bundle: Bundle = {
      mediaType: BUNDLE_MEDIA_TYPES[o.version],
      verificationMaterial: {
        content: identity.material,
        tlogEntries,
        timestampVerificationData:
          timestamp === undefined
            ? undefined
            : { rfc3161Timestamps: [{ signedTimestamp: timestamp }] },
      },
      content: bundleContent,
    };
    return bundleToJSON(bundle);
  }

  async function keylessIdentity(o: Resolved): Promise<Identity> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const leaf = toBuffer(
      await (o.sct ? ca : caWithoutCT).issueCertificate({
        publicKey: new Uint8Array(spki(publicKey)),
        subjectAltName: o.san,
        extensions: Object.entries(o.claims).map(([oid, value]) => ({
          oid,
          value,
          legacy: isLegacyClaim(oid),
        })),
      }),
    );
    const chain = (o.fullChain ? [leaf, caRoot] : [leaf]).map((rawBytes) => ({ rawBytes }));
    // Bundles before v0.3 carry the certificate as a (one-element) chain.
    const asChain = o.fullChain || o.version === '0.1' || o.version === '0.2';
    return {
      privateKey,
      verifier: {
        pem: pem.fromDER(leaf),
        der: leaf,
        isCertificate: true,
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      },
      material: asChain
        ? { $case: 'x509CertificateChain', x509CertificateChain: { certificates: chain } }
        : { $case: 'certificate', certificate: { rawBytes: leaf } },
    };
  }

  function keyIdentity(signer: KeySigner): Identity {
    const { privateKey, hint } = signingKey(signer);
    const publicKey = publicKeys[hint];
    if (publicKey === undefined) throw new Error(`no public key for ${hint}`);
    return {
      privateKey,
      verifier: {
        pem: publicKey.pem,
        der: pem.toDER(publicKey.pem),
        isCertificate: false,
        keyDetails: publicKey.keyDetails,
      },
      material: { $case: 'publicKey', publicKey: { hint } },
    };
  }

  function logEntry(o: Resolved, signed: Signed, verifier: EntryVerifier): TransparencyLogEntry {
    const log: TestLog = o.tlog === 'rekor-v2' ? rekorV2 : rekorV1;
    return log.append({
      ...rekorBody(o, signed, verifier),
      integratedTime: Math.floor(now.getTime() / 1000),
      promise: o.promise,
      proof: o.proof,
    });
  }

  async function rfc3161Timestamp(signature: Buffer): Promise<Buffer> {
    // What sigstore-js asks a TSA for: a timestamp over sha256(signature).
    const response = await tsa.timestamp({
      artifactHash: createHash('sha256').update(signature).digest(),
      hashAlgorithmOID: OID_SHA256,
      nonce: randomInt(1, 2 ** 31),
      policyOID: OID_SIGSTORE_TSA_POLICY,
      certReq: false,
    });
    return toBuffer(response);
  }
}

/** An in-toto Statement, serialized as a DSSE payload. */
export function inTotoStatement(
  subjects: { name: string; digest: Record<string, string> }[],
  predicateType: string,
  predicate: unknown,
  version: 'v0.1' | 'v1' = 'v1',
): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: `https://in-toto.io/Statement/${version}`,
      subject: subjects,
      predicateType,
      predicate,
    }),
  );
}

function resolve(content: Content, opts: SignOptions): Resolved {
  const tlog = opts.tlog ?? 'rekor-v1';
  const isMessage = content.$case === 'messageSignature';
  const entryKind = opts.entryKind ?? (isMessage ? 'hashedrekord' : 'dsse');
  const proof = opts.proof ?? (tlog === 'rekor-v2' ? 'inclusion-proof' : 'both');
  const signer = opts.signer ?? 'keyless';
  const san = opts.san ?? DEFAULT_SAN;
  if (isMessage !== (entryKind === 'hashedrekord')) {
    throw new Error(`a ${content.$case} bundle cannot have a ${entryKind} tlog entry`);
  }
  if (tlog === 'rekor-v2' && entryKind === 'intoto') {
    throw new Error('Rekor v2 has no intoto entries');
  }
  if (tlog === 'rekor-v2' && proof !== 'inclusion-proof') {
    throw new Error('Rekor v2 gives no inclusion promise');
  }
  if (signer === 'keyless' && !/^[a-z][a-z0-9+.-]*:/i.test(san)) {
    throw new Error(`@sigstore/mock's CA writes URI SANs only, not ${san}`);
  }
  return {
    version: opts.bundleVersion ?? '0.3',
    tlog,
    entryKind,
    promise: proof !== 'inclusion-proof',
    proof: proof !== 'inclusion-promise',
    timestamp: opts.timestamp ?? tlog !== 'rekor-v1',
    signer,
    san,
    claims: opts.claims ?? DEFAULT_CLAIMS,
    fullChain: opts.fullChain ?? false,
    sct: opts.sct ?? true,
    digest: opts.digestAlgorithm ?? 'sha256',
  };
}

function rekorBody(o: Resolved, signed: Signed, verifier: EntryVerifier): RekorBody {
  if (signed.$case === 'messageSignature') {
    return o.tlog === 'rekor-v2'
      ? hashedRekordV002(o.digest, signed.digest, signed.signature, verifier)
      : hashedRekordV001(o.digest, signed.digest, signed.signature, verifier);
  }
  if (o.tlog === 'rekor-v2') return dsseV002(signed.envelope, verifier);
  return o.entryKind === 'intoto'
    ? intotoV002(signed.envelope, verifier)
    : dsseV001(signed.envelope, verifier);
}

// Fulcio wrote its first extensions (1.1-1.6) as raw strings, later ones as DER UTF8String.
function isLegacyClaim(oid: string): boolean {
  if (!oid.startsWith(FULCIO_OID_PREFIX)) return false;
  const arc = Number(oid.slice(FULCIO_OID_PREFIX.length));
  return arc >= 1 && arc <= 6;
}

function signBytes(data: Buffer, privateKey: KeyObject, digest: DigestAlgorithm): Buffer {
  return privateKey.asymmetricKeyType === 'ed25519'
    ? sign(null, data, privateKey)
    : sign(digest, data, privateKey);
}

function serializedLog(
  baseUrl: string,
  publicKey: Buffer,
  keyDetails: string,
  logId: Buffer,
  validFor: Validity,
): SerializedLog {
  return {
    baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: publicKey.toString('base64'),
      keyDetails,
      validFor: serializedValidity(validFor),
    },
    logId: { keyId: logId.toString('base64') },
  };
}

function serializedValidity(validity: Validity): SerializedValidity {
  return validity.end === undefined
    ? { start: validity.start.toISOString() }
    : { start: validity.start.toISOString(), end: validity.end.toISOString() };
}

function spki(publicKey: KeyObject): Buffer {
  return publicKey.export({ format: 'der', type: 'spki' });
}

function toBuffer(view: ArrayBufferView): Buffer<ArrayBuffer> {
  return Buffer.from(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
}
