// Decoding of attestation documents into typed, fully-decoded structures.
// Accepted: a Sigstore bundle (v0.1, v0.2, v0.3 in both media-type spellings;
// https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_bundle.proto),
// JSON Lines with one bundle per line (slsa-github-generator, gh), the npm
// registry's attestations document, and a bare DSSE envelope. Every field is
// attacker-controlled: each failure names the field path.
import { VerificationError } from './error.ts';
import { decodeBase64, parseJson, splitJsonLines, type JsonLimits } from './json.ts';

export const BUNDLE_MEDIA_TYPES = {
  'application/vnd.dev.sigstore.bundle+json;version=0.1': '0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2': '0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3': '0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json': '0.3',
} as const;

export type BundleVersion = (typeof BUNDLE_MEDIA_TYPES)[keyof typeof BUNDLE_MEDIA_TYPES];

export const DSSE_ENVELOPE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';

export interface Envelope {
  payload: Buffer;
  payloadType: string;
  signatures: { keyid: string; sig: Buffer; cert?: string }[];
}

export type HashAlgorithm = 'sha256' | 'sha384' | 'sha512';

export interface TlogEntry {
  logIndex: string;
  logId: Buffer;
  kind: string;
  version: string;
  /** Seconds since the epoch; 0 when the log does not record one (Rekor v2). */
  integratedTime: number;
  inclusionPromise?: { signedEntryTimestamp: Buffer };
  inclusionProof?: {
    logIndex: string;
    rootHash: Buffer;
    treeSize: string;
    hashes: Buffer[];
    checkpoint?: string;
  };
  canonicalizedBody: Buffer;
}

export type VerificationMaterial =
  { kind: 'certificate'; certificates: Buffer[] } | { kind: 'public-key'; hint: string };

export type BundleContent =
  | {
      kind: 'message-signature';
      messageDigest?: { algorithm: HashAlgorithm; digest: Buffer };
      signature: Buffer;
    }
  | { kind: 'dsse'; envelope: Envelope };

export interface Bundle {
  mediaType: string;
  version: BundleVersion;
  material: VerificationMaterial;
  tlogEntries: TlogEntry[];
  rfc3161Timestamps: Buffer[];
  content: BundleContent;
}

/** One attestation found in a document, with where it came from for error messages. */
export type ParsedAttestation =
  | { kind: 'bundle'; origin: string; predicateType?: string; bundle: Bundle }
  | { kind: 'envelope'; origin: string; envelope: Envelope };

export interface ParseLimits extends JsonLimits {
  maxAttestations: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = {
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 64,
  maxAttestations: 64,
};

/**
 * Parses an attestation document: a bundle, JSON Lines of bundles/envelopes, an npm
 * attestations document, or a DSSE envelope. Never returns an empty list.
 */
export function parseAttestations(
  input: string | Uint8Array,
  limits: ParseLimits = DEFAULT_PARSE_LIMITS,
): ParsedAttestation[] {
  const text = typeof input === 'string' ? input : undefined;
  let doc: unknown;
  try {
    doc = parseJson(input, limits);
  } catch (err) {
    // A document that is not one JSON value may be JSON Lines.
    if (!(err instanceof VerificationError) || err.code !== 'MALFORMED_JSON') throw err;
    let whole: string;
    try {
      // Invalid UTF-8 is as malformed here as in a single document.
      whole = text ?? new TextDecoder('utf-8', { fatal: true }).decode(input as Uint8Array);
    } catch {
      throw err;
    }
    const lines = splitJsonLines(whole);
    if (lines.length < 2) throw err;
    if (lines.length > limits.maxAttestations) tooMany(lines.length, limits);
    return lines.map(({ line, text: l }) => {
      const origin = `line ${line}`;
      return fromDocument(parseJson(l, limits, origin), origin, limits, false)[0]!;
    });
  }
  const found = fromDocument(doc, 'document', limits, true);
  if (found.length === 0) {
    throw new VerificationError(
      'NO_ATTESTATION',
      'the attestations document lists no attestations',
    );
  }
  if (found.length > limits.maxAttestations) tooMany(found.length, limits);
  return found;
}

function tooMany(n: number, limits: ParseLimits): never {
  throw new VerificationError(
    'TOO_MANY_ATTESTATIONS',
    `the document holds ${n} attestations; at most ${limits.maxAttestations} are accepted`,
  );
}

function fromDocument(
  doc: unknown,
  origin: string,
  limits: ParseLimits,
  allowNpm: boolean,
): ParsedAttestation[] {
  const obj = asObject(doc, origin === 'document' ? 'the document' : origin);
  if ('mediaType' in obj) {
    return [{ kind: 'bundle', origin, bundle: decodeBundle(obj, origin) }];
  }
  if (allowNpm && 'attestations' in obj) {
    const list = asArray(obj.attestations, 'attestations');
    if (list.length > limits.maxAttestations) tooMany(list.length, limits);
    return list.map((item, i) => {
      const path = `attestations[${i}]`;
      const entry = asObject(item, path);
      const predicateType = optionalString(entry.predicateType, `${path}.predicateType`);
      const bundle = decodeBundle(asObject(entry.bundle, `${path}.bundle`), `${path}.bundle`);
      return predicateType === undefined
        ? { kind: 'bundle' as const, origin: path, bundle }
        : { kind: 'bundle' as const, origin: path, predicateType, bundle };
    });
  }
  if ('payloadType' in obj && 'signatures' in obj) {
    return [{ kind: 'envelope', origin, envelope: decodeEnvelope(obj, origin) }];
  }
  throw new VerificationError(
    'MALFORMED_BUNDLE',
    `${origin} is not a Sigstore bundle, an npm attestations document or a DSSE envelope`,
  );
}

/** Decodes one serialized Sigstore bundle (protobuf-JSON form). */
export function decodeBundle(obj: Record<string, unknown>, path = 'bundle'): Bundle {
  const mediaType = obj.mediaType;
  if (typeof mediaType !== 'string') {
    throw new VerificationError('MALFORMED_BUNDLE', `${path}.mediaType must be a string`);
  }
  // Own properties only: `constructor` or `__proto__` is not a bundle version.
  const version = Object.hasOwn(BUNDLE_MEDIA_TYPES, mediaType)
    ? (BUNDLE_MEDIA_TYPES as Record<string, BundleVersion>)[mediaType]
    : undefined;
  if (version === undefined) {
    throw new VerificationError(
      'UNKNOWN_BUNDLE_VERSION',
      `${path}.mediaType ${JSON.stringify(mediaType.slice(0, 100))} is not a supported Sigstore bundle version (0.1, 0.2, 0.3)`,
    );
  }
  const vm = asObject(obj.verificationMaterial, `${path}.verificationMaterial`);
  const material = decodeMaterial(vm, `${path}.verificationMaterial`);
  const tlogEntries = asArray(vm.tlogEntries ?? [], `${path}.verificationMaterial.tlogEntries`).map(
    (e, i) => decodeTlogEntry(e, `${path}.verificationMaterial.tlogEntries[${i}]`),
  );
  const tvd =
    vm.timestampVerificationData === undefined || vm.timestampVerificationData === null
      ? {}
      : asObject(
          vm.timestampVerificationData,
          `${path}.verificationMaterial.timestampVerificationData`,
        );
  const rfc3161Timestamps = asArray(
    tvd.rfc3161Timestamps ?? [],
    `${path}.verificationMaterial.timestampVerificationData.rfc3161Timestamps`,
  ).map((t, i) => {
    const p = `${path}.verificationMaterial.timestampVerificationData.rfc3161Timestamps[${i}]`;
    return decodeBase64(asObject(t, p).signedTimestamp, `${p}.signedTimestamp`);
  });

  const hasDsse = obj.dsseEnvelope !== undefined;
  const hasMessage = obj.messageSignature !== undefined;
  if (hasDsse === hasMessage) {
    throw new VerificationError(
      'MALFORMED_BUNDLE',
      `${path} must carry exactly one of dsseEnvelope and messageSignature`,
    );
  }
  const content: BundleContent = hasDsse
    ? {
        kind: 'dsse',
        envelope: decodeEnvelope(
          asObject(obj.dsseEnvelope, `${path}.dsseEnvelope`),
          `${path}.dsseEnvelope`,
        ),
      }
    : decodeMessageSignature(
        asObject(obj.messageSignature, `${path}.messageSignature`),
        `${path}.messageSignature`,
      );

  if (content.kind === 'dsse' && content.envelope.signatures.length !== 1) {
    // The bundle spec requires exactly one signature in a bundle's envelope.
    throw new VerificationError(
      'MALFORMED_BUNDLE',
      `${path}.dsseEnvelope.signatures must hold exactly one signature, found ${content.envelope.signatures.length}`,
    );
  }
  return { mediaType, version, material, tlogEntries, rfc3161Timestamps, content };
}

function decodeMaterial(vm: Record<string, unknown>, path: string): VerificationMaterial {
  const present = ['x509CertificateChain', 'certificate', 'publicKey'].filter(
    (k) => vm[k] !== undefined && vm[k] !== null,
  );
  if (present.length !== 1) {
    throw new VerificationError(
      'MALFORMED_BUNDLE',
      present.length === 0
        ? `${path} carries no certificate and no public key`
        : `${path} carries more than one of ${present.join(', ')}`,
    );
  }
  if (vm.publicKey !== undefined && vm.publicKey !== null) {
    const pk = asObject(vm.publicKey, `${path}.publicKey`);
    const hint = optionalString(pk.hint, `${path}.publicKey.hint`) ?? '';
    return { kind: 'public-key', hint };
  }
  if (vm.certificate !== undefined && vm.certificate !== null) {
    const cert = asObject(vm.certificate, `${path}.certificate`);
    return {
      kind: 'certificate',
      certificates: [decodeBase64(cert.rawBytes, `${path}.certificate.rawBytes`)],
    };
  }
  const chain = asObject(vm.x509CertificateChain, `${path}.x509CertificateChain`);
  const certs = asArray(chain.certificates, `${path}.x509CertificateChain.certificates`);
  if (certs.length === 0 || certs.length > 10) {
    throw new VerificationError(
      'MALFORMED_BUNDLE',
      `${path}.x509CertificateChain.certificates must hold 1 to 10 certificates, found ${certs.length}`,
    );
  }
  return {
    kind: 'certificate',
    certificates: certs.map((c, i) => {
      const p = `${path}.x509CertificateChain.certificates[${i}]`;
      return decodeBase64(asObject(c, p).rawBytes, `${p}.rawBytes`);
    }),
  };
}

function decodeTlogEntry(value: unknown, path: string): TlogEntry {
  const e = asObject(value, path);
  const kindVersion = asObject(e.kindVersion, `${path}.kindVersion`);
  const logId = asObject(e.logId, `${path}.logId`);
  const entry: TlogEntry = {
    logIndex: intString(e.logIndex ?? '0', `${path}.logIndex`),
    logId: decodeBase64(logId.keyId, `${path}.logId.keyId`),
    kind: requireString(kindVersion.kind, `${path}.kindVersion.kind`),
    version: requireString(kindVersion.version, `${path}.kindVersion.version`),
    integratedTime: Number(intString(e.integratedTime ?? '0', `${path}.integratedTime`)),
    canonicalizedBody: decodeBase64(e.canonicalizedBody, `${path}.canonicalizedBody`),
  };
  if (e.inclusionPromise !== undefined && e.inclusionPromise !== null) {
    const p = asObject(e.inclusionPromise, `${path}.inclusionPromise`);
    entry.inclusionPromise = {
      signedEntryTimestamp: decodeBase64(
        p.signedEntryTimestamp,
        `${path}.inclusionPromise.signedEntryTimestamp`,
      ),
    };
  }
  if (e.inclusionProof !== undefined && e.inclusionProof !== null) {
    const pp = `${path}.inclusionProof`;
    const p = asObject(e.inclusionProof, pp);
    const hashes = asArray(p.hashes ?? [], `${pp}.hashes`);
    if (hashes.length > 64) {
      throw new VerificationError('MALFORMED_BUNDLE', `${pp}.hashes holds more than 64 hashes`);
    }
    const checkpoint =
      p.checkpoint === undefined || p.checkpoint === null
        ? undefined
        : requireString(
            asObject(p.checkpoint, `${pp}.checkpoint`).envelope,
            `${pp}.checkpoint.envelope`,
          );
    entry.inclusionProof = {
      logIndex: intString(p.logIndex ?? '0', `${pp}.logIndex`),
      rootHash: decodeBase64(p.rootHash, `${pp}.rootHash`),
      treeSize: intString(p.treeSize ?? '0', `${pp}.treeSize`),
      hashes: hashes.map((h, i) => decodeBase64(h, `${pp}.hashes[${i}]`)),
      ...(checkpoint === undefined ? {} : { checkpoint }),
    };
  }
  return entry;
}

function decodeMessageSignature(obj: Record<string, unknown>, path: string): BundleContent {
  const signature = decodeBase64(obj.signature, `${path}.signature`);
  if (obj.messageDigest === undefined || obj.messageDigest === null) {
    return { kind: 'message-signature', signature };
  }
  const md = asObject(obj.messageDigest, `${path}.messageDigest`);
  const algorithm =
    typeof md.algorithm === 'string' && Object.hasOwn(HASH_ALGORITHMS, md.algorithm)
      ? HASH_ALGORITHMS[md.algorithm]
      : undefined;
  if (algorithm === undefined) {
    throw new VerificationError(
      'UNSUPPORTED_ALGORITHM',
      `${path}.messageDigest.algorithm must be SHA2_256, SHA2_384 or SHA2_512`,
    );
  }
  return {
    kind: 'message-signature',
    signature,
    messageDigest: { algorithm, digest: decodeBase64(md.digest, `${path}.messageDigest.digest`) },
  };
}

const HASH_ALGORITHMS: Record<string, HashAlgorithm | undefined> = {
  SHA2_256: 'sha256',
  SHA2_384: 'sha384',
  SHA2_512: 'sha512',
};

/** Decodes a DSSE envelope (https://github.com/secure-systems-lab/dsse/blob/master/envelope.md). */
export function decodeEnvelope(obj: Record<string, unknown>, path = 'envelope'): Envelope {
  const payloadType = requireString(obj.payloadType, `${path}.payloadType`);
  const payload = decodeBase64(obj.payload, `${path}.payload`);
  const sigs = asArray(obj.signatures, `${path}.signatures`);
  if (sigs.length === 0 || sigs.length > 16) {
    throw new VerificationError(
      'MALFORMED_ENVELOPE',
      `${path}.signatures must hold 1 to 16 signatures, found ${sigs.length}`,
    );
  }
  return {
    payloadType,
    payload,
    signatures: sigs.map((s, i) => {
      const p = `${path}.signatures[${i}]`;
      const sig = asObject(s, p);
      const cert = optionalString(sig.cert, `${p}.cert`);
      return {
        keyid: optionalString(sig.keyid, `${p}.keyid`) ?? '',
        sig: decodeBase64(sig.sig, `${p}.sig`),
        ...(cert === undefined || cert === '' ? {} : { cert }),
      };
    }),
  };
}

function asObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VerificationError('MALFORMED_BUNDLE', `${path} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function asArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new VerificationError('MALFORMED_BUNDLE', `${path} must be a JSON array`);
  }
  return value;
}

function requireString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new VerificationError('MALFORMED_BUNDLE', `${path} must be a non-empty string`);
  }
  return value;
}

function optionalString(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new VerificationError('MALFORMED_BUNDLE', `${path} must be a string`);
  }
  return value;
}

// int64 fields are strings in protobuf-JSON; numbers are tolerated.
function intString(value: unknown, path: string): string {
  const s = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof s !== 'string' || !/^[0-9]{1,19}$/.test(s)) {
    throw new VerificationError('MALFORMED_BUNDLE', `${path} must be a non-negative integer`);
  }
  return s;
}
