// The logged entry must be the bundle's own signature: same signature bytes,
// same signed digest or payload hash, same certificate or key. Without this an
// attacker could pair a valid log entry for something else with their bundle.
// Rekor types: hashedrekord 0.0.1 / 0.0.2, dsse 0.0.1 / 0.0.2, intoto 0.0.2.
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { VerificationError } from './error.ts';
import { decodeBase64, parseJson } from './json.ts';
import { bytesEqual } from './signature.ts';
import type { BundleContent, TlogEntry } from './bundle.ts';

/** What the log entry must name as the signer: the leaf certificate or the public key, as DER. */
export interface LoggedSigner {
  kind: 'certificate' | 'public-key';
  der: Buffer;
}

const BODY_LIMITS = { maxBytes: 4 * 1024 * 1024, maxDepth: 32 };

/** The artifact digest a hashedrekord entry logs. */
export interface LoggedDigest {
  algorithm: string;
  digest: Buffer;
}

/** Checks the entry logs this bundle's signature; returns the logged artifact digest for message signatures. */
export function verifyTlogBody(
  entry: TlogEntry,
  content: BundleContent,
  signer: LoggedSigner,
): LoggedDigest | undefined {
  let body: Record<string, unknown>;
  try {
    body = obj(parseJson(entry.canonicalizedBody, BODY_LIMITS), 'body');
  } catch (err) {
    throw malformed(entry, 'is not a JSON object', err);
  }
  if (body.kind !== entry.kind || body.apiVersion !== entry.version) {
    throw mismatch(
      entry,
      `logs a ${String(body.kind)} ${String(body.apiVersion)} entry but claims to be ${entry.kind} ${entry.version}`,
    );
  }
  let logged: Logged;
  try {
    logged = readEntry(entry, body);
  } catch (err) {
    if (err instanceof VerificationError) {
      if (err.code === 'TLOG_ENTRY_UNSUPPORTED') throw err;
      throw malformed(entry, err.message, err);
    }
    throw malformed(entry, 'has an unexpected shape', err);
  }
  return compare(entry, logged, content, signer);
}

/** What an entry logs, whatever its kind: the one shape compare() checks. */
interface Logged {
  /** What kind of content the entry logs. */
  content: 'message-signature' | 'dsse';
  signatureCount: number;
  signature: Buffer;
  /** The signer as logged: a certificate or public key, DER. */
  signer: Buffer;
  /** hashedrekord: the signed artifact digest. */
  digest?: LoggedDigest;
  /** dsse/intoto: the hash of the envelope's payload. */
  payloadHash?: LoggedDigest;
  /** intoto: the logged payload type, when given. */
  payloadType?: unknown;
}

function readEntry(entry: TlogEntry, body: Record<string, unknown>): Logged {
  const spec = obj(body.spec, 'spec');
  switch (`${entry.kind}/${entry.version}`) {
    case 'hashedrekord/0.0.1': {
      const sig = obj(spec.signature, 'spec.signature');
      const hash = obj(obj(spec.data, 'spec.data').hash, 'spec.data.hash');
      const key = obj(sig.publicKey, 'spec.signature.publicKey');
      return {
        content: 'message-signature',
        signatureCount: 1,
        signature: decodeBase64(sig.content, 'spec.signature.content'),
        signer: pemToDer(decodeBase64(key.content, 'spec.signature.publicKey.content')),
        digest: {
          algorithm: str(hash.algorithm, 'spec.data.hash.algorithm'),
          digest: hexBytes(hash.value, 'spec.data.hash.value'),
        },
      };
    }
    case 'hashedrekord/0.0.2': {
      const v2 = obj(spec.hashedRekordV002, 'spec.hashedRekordV002');
      const sig = obj(v2.signature, 'spec.hashedRekordV002.signature');
      const data = obj(v2.data, 'spec.hashedRekordV002.data');
      return {
        content: 'message-signature',
        signatureCount: 1,
        signature: decodeBase64(sig.content, 'signature.content'),
        signer: verifierDer(sig.verifier, 'signature.verifier'),
        digest: {
          algorithm: protoHash(data.algorithm),
          digest: decodeBase64(data.digest, 'data.digest'),
        },
      };
    }
    case 'dsse/0.0.1': {
      const sigs = arr(spec.signatures, 'spec.signatures');
      if (sigs.length !== 1) return miscounted(sigs.length);
      const s = obj(sigs[0], 'spec.signatures[0]');
      const hash = obj(spec.payloadHash, 'spec.payloadHash');
      return {
        content: 'dsse',
        signatureCount: 1,
        signature: decodeBase64(s.signature, 'spec.signatures[0].signature'),
        signer: pemToDer(decodeBase64(s.verifier, 'spec.signatures[0].verifier')),
        payloadHash: {
          algorithm: str(hash.algorithm, 'spec.payloadHash.algorithm'),
          digest: hexBytes(hash.value, 'spec.payloadHash.value'),
        },
      };
    }
    case 'dsse/0.0.2': {
      const v2 = obj(spec.dsseV002, 'spec.dsseV002');
      const sigs = arr(v2.signatures, 'spec.dsseV002.signatures');
      if (sigs.length !== 1) return miscounted(sigs.length);
      const s = obj(sigs[0], 'signatures[0]');
      const hash = obj(v2.payloadHash, 'spec.dsseV002.payloadHash');
      return {
        content: 'dsse',
        signatureCount: 1,
        signature: decodeBase64(s.content, 'signatures[0].content'),
        signer: verifierDer(s.verifier, 'signatures[0].verifier'),
        payloadHash: {
          algorithm: protoHash(hash.algorithm),
          digest: decodeBase64(hash.digest, 'payloadHash.digest'),
        },
      };
    }
    case 'intoto/0.0.2': {
      const c = obj(spec.content, 'spec.content');
      const envelope = obj(c.envelope, 'spec.content.envelope');
      const sigs = arr(envelope.signatures, 'spec.content.envelope.signatures');
      if (sigs.length !== 1) return miscounted(sigs.length);
      const s = obj(sigs[0], 'signatures[0]');
      const hash = obj(c.payloadHash, 'spec.content.payloadHash');
      // intoto 0.0.2 stores the signature base64-encoded twice.
      const inner = decodeBase64(s.sig, 'signatures[0].sig').toString('utf8');
      return {
        content: 'dsse',
        signatureCount: 1,
        signature: decodeBase64(inner, 'signatures[0].sig (inner)'),
        signer: pemToDer(decodeBase64(s.publicKey, 'signatures[0].publicKey')),
        payloadHash: {
          algorithm: str(hash.algorithm, 'payloadHash.algorithm'),
          digest: hexBytes(hash.value, 'payloadHash.value'),
        },
        payloadType: envelope.payloadType,
      };
    }
    default:
      throw new VerificationError(
        'TLOG_ENTRY_UNSUPPORTED',
        `transparency-log entry kind ${entry.kind} ${entry.version} is not supported`,
      );
  }
}

// A DSSE entry that logs other than one signature: compare() reports the count.
function miscounted(count: number): Logged {
  return {
    content: 'dsse',
    signatureCount: count,
    signature: Buffer.alloc(0),
    signer: Buffer.alloc(0),
  };
}

function compare(
  entry: TlogEntry,
  logged: Logged,
  content: BundleContent,
  signer: LoggedSigner,
): LoggedDigest | undefined {
  if (logged.content === 'message-signature') {
    const msg = requireMessage(entry, content);
    if (!bytesEqual(logged.signature, msg.signature))
      throw mismatch(entry, 'logs a different signature');
    const digest = checkDigest(entry, msg, logged.digest!.algorithm, logged.digest!.digest);
    checkSigner(entry, logged.signer, signer);
    return digest;
  }
  const env = requireDsse(entry, content);
  if (logged.signatureCount !== 1) {
    throw mismatch(entry, `logs ${logged.signatureCount} signatures, the envelope has 1`);
  }
  if (!bytesEqual(logged.signature, env.signatures[0]!.sig))
    throw mismatch(entry, 'logs a different signature');
  if (logged.payloadType !== undefined && logged.payloadType !== env.payloadType) {
    throw mismatch(
      entry,
      `logs payload type ${JSON.stringify(logged.payloadType)}, the envelope has ${env.payloadType}`,
    );
  }
  checkPayloadHash(entry, env.payload, logged.payloadHash!.algorithm, logged.payloadHash!.digest);
  checkSigner(entry, logged.signer, signer);
  return undefined;
}

function requireMessage(entry: TlogEntry, content: BundleContent) {
  if (content.kind !== 'message-signature') {
    throw mismatch(
      entry,
      `is a ${entry.kind} entry, which logs a message signature, but the bundle holds a DSSE envelope`,
    );
  }
  return content;
}

function requireDsse(entry: TlogEntry, content: BundleContent) {
  if (content.kind !== 'dsse') {
    throw mismatch(
      entry,
      `is a ${entry.kind} entry, which logs a DSSE envelope, but the bundle holds a message signature`,
    );
  }
  return content.envelope;
}

function checkDigest(
  entry: TlogEntry,
  msg: Extract<BundleContent, { kind: 'message-signature' }>,
  algorithm: string,
  digest: Buffer,
): LoggedDigest {
  // The bundle's own message digest, when present, must be the logged one; the
  // artifact itself is compared with the bundle's digest by the signature check.
  if (msg.messageDigest !== undefined) {
    if (
      msg.messageDigest.algorithm !== algorithm ||
      !bytesEqual(msg.messageDigest.digest, digest)
    ) {
      throw mismatch(entry, 'logs a different artifact digest than the bundle signs');
    }
  }
  return { algorithm, digest };
}

function checkPayloadHash(
  entry: TlogEntry,
  payload: Buffer,
  algorithm: string,
  digest: Buffer,
): void {
  if (algorithm !== 'sha256' && algorithm !== 'sha384' && algorithm !== 'sha512') {
    throw mismatch(entry, `uses unsupported payload hash ${algorithm}`);
  }
  if (!bytesEqual(createHash(algorithm).update(payload).digest(), digest)) {
    throw mismatch(entry, 'logs a different DSSE payload');
  }
}

function checkSigner(entry: TlogEntry, logged: Buffer, signer: LoggedSigner): void {
  if (bytesEqual(logged, signer.der)) return;
  // The log may name the signer's key where the bundle has its certificate, or a
  // certificate for the key a bundle names: then the two must hold the same key.
  const loggedKey = spkiOf(logged);
  const signerKey = signer.kind === 'certificate' ? spkiOfCertificate(signer.der) : signer.der;
  if (loggedKey !== undefined && signerKey !== undefined && bytesEqual(loggedKey, signerKey))
    return;
  throw mismatch(
    entry,
    `logs a different ${signer.kind === 'certificate' ? 'certificate' : 'public key'} than the bundle's`,
  );
}

/** SPKI DER of a DER certificate or of a DER public key. */
function spkiOf(der: Buffer): Buffer | undefined {
  const fromCert = spkiOfCertificate(der);
  if (fromCert !== undefined) return fromCert;
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' }).export({
      type: 'spki',
      format: 'der',
    });
  } catch {
    return undefined;
  }
}

function spkiOfCertificate(der: Buffer): Buffer | undefined {
  try {
    return new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' });
  } catch {
    return undefined;
  }
}

function verifierDer(value: unknown, path: string): Buffer {
  const v = obj(value, path);
  if (v.x509Certificate !== undefined) {
    return decodeBase64(
      obj(v.x509Certificate, `${path}.x509Certificate`).rawBytes,
      `${path}.x509Certificate.rawBytes`,
    );
  }
  return decodeBase64(obj(v.publicKey, `${path}.publicKey`).rawBytes, `${path}.publicKey.rawBytes`);
}

function pemToDer(pem: Buffer): Buffer {
  const text = pem.toString('utf8');
  const m = /-----BEGIN [A-Z ]+-----([\s\S]*?)-----END [A-Z ]+-----/.exec(text);
  if (m === null) throw new VerificationError('TLOG_BODY_MALFORMED', 'the logged key is not PEM');
  return decodeBase64(m[1]!.replace(/\s+/g, ''), 'logged PEM');
}

function protoHash(value: unknown): string {
  switch (value) {
    case 'SHA2_256':
      return 'sha256';
    case 'SHA2_384':
      return 'sha384';
    case 'SHA2_512':
      return 'sha512';
    default:
      throw new VerificationError('TLOG_BODY_MALFORMED', `unknown hash algorithm ${String(value)}`);
  }
}

function hexBytes(value: unknown, path: string): Buffer {
  if (typeof value !== 'string' || !/^(?:[0-9a-f]{2})+$/i.test(value)) {
    throw new VerificationError('TLOG_BODY_MALFORMED', `${path} must be hex`);
  }
  return Buffer.from(value, 'hex');
}

function obj(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VerificationError('TLOG_BODY_MALFORMED', `${path} must be an object`);
  }
  return value as Record<string, unknown>;
}

function arr(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value))
    throw new VerificationError('TLOG_BODY_MALFORMED', `${path} must be an array`);
  return value;
}

function str(value: unknown, path: string): string {
  if (typeof value !== 'string')
    throw new VerificationError('TLOG_BODY_MALFORMED', `${path} must be a string`);
  return value;
}

function mismatch(entry: TlogEntry, what: string): VerificationError {
  return new VerificationError(
    'TLOG_ENTRY_MISMATCH',
    `transparency-log entry ${entry.logIndex} ${what}`,
  );
}

function malformed(entry: TlogEntry, what: string, cause?: unknown): VerificationError {
  return new VerificationError(
    'TLOG_BODY_MALFORMED',
    `the body of transparency-log entry ${entry.logIndex} ${what}`,
    cause,
  );
}
