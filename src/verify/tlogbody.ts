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
  try {
    switch (`${entry.kind}/${entry.version}`) {
      case 'hashedrekord/0.0.1':
        return hashedrekordV001(entry, body, content, signer);
      case 'hashedrekord/0.0.2':
        return hashedrekordV002(entry, body, content, signer);
      case 'dsse/0.0.1':
        dsseV001(entry, body, content, signer);
        return undefined;
      case 'dsse/0.0.2':
        dsseV002(entry, body, content, signer);
        return undefined;
      case 'intoto/0.0.2':
        intotoV002(entry, body, content, signer);
        return undefined;
      default:
        throw new VerificationError(
          'TLOG_ENTRY_UNSUPPORTED',
          `transparency-log entry kind ${entry.kind} ${entry.version} is not supported`,
        );
    }
  } catch (err) {
    if (err instanceof VerificationError) {
      if (err.code === 'TLOG_ENTRY_MISMATCH' || err.code === 'TLOG_ENTRY_UNSUPPORTED') throw err;
      throw malformed(entry, err.message, err);
    }
    throw malformed(entry, 'has an unexpected shape', err);
  }
}

function hashedrekordV001(
  entry: TlogEntry,
  body: Record<string, unknown>,
  content: BundleContent,
  signer: LoggedSigner,
): LoggedDigest {
  const msg = requireMessage(entry, content);
  const spec = obj(body.spec, 'spec');
  const sig = obj(spec.signature, 'spec.signature');
  if (!bytesEqual(decodeBase64(sig.content, 'spec.signature.content'), msg.signature)) {
    throw mismatch(entry, 'logs a different signature');
  }
  const hash = obj(obj(spec.data, 'spec.data').hash, 'spec.data.hash');
  const logged = checkDigest(
    entry,
    msg,
    str(hash.algorithm, 'spec.data.hash.algorithm'),
    hexBytes(hash.value, 'spec.data.hash.value'),
  );
  const pem = decodeBase64(
    obj(sig.publicKey, 'spec.signature.publicKey').content,
    'spec.signature.publicKey.content',
  );
  checkSigner(entry, pemToDer(pem), signer);
  return logged;
}

function hashedrekordV002(
  entry: TlogEntry,
  body: Record<string, unknown>,
  content: BundleContent,
  signer: LoggedSigner,
): LoggedDigest {
  const msg = requireMessage(entry, content);
  const spec = obj(obj(body.spec, 'spec').hashedRekordV002, 'spec.hashedRekordV002');
  const sig = obj(spec.signature, 'spec.hashedRekordV002.signature');
  if (!bytesEqual(decodeBase64(sig.content, 'signature.content'), msg.signature)) {
    throw mismatch(entry, 'logs a different signature');
  }
  const data = obj(spec.data, 'spec.hashedRekordV002.data');
  const logged = checkDigest(
    entry,
    msg,
    protoHash(data.algorithm),
    decodeBase64(data.digest, 'data.digest'),
  );
  checkSigner(entry, verifierDer(sig.verifier, 'signature.verifier'), signer);
  return logged;
}

function dsseV001(
  entry: TlogEntry,
  body: Record<string, unknown>,
  content: BundleContent,
  signer: LoggedSigner,
): void {
  const env = requireDsse(entry, content);
  const spec = obj(body.spec, 'spec');
  const sigs = arr(spec.signatures, 'spec.signatures');
  if (sigs.length !== 1)
    throw mismatch(entry, `logs ${sigs.length} signatures, the envelope has 1`);
  const s = obj(sigs[0], 'spec.signatures[0]');
  if (
    !bytesEqual(decodeBase64(s.signature, 'spec.signatures[0].signature'), env.signatures[0]!.sig)
  ) {
    throw mismatch(entry, 'logs a different signature');
  }
  const payloadHash = obj(spec.payloadHash, 'spec.payloadHash');
  checkPayloadHash(
    entry,
    env.payload,
    str(payloadHash.algorithm, 'spec.payloadHash.algorithm'),
    hexBytes(payloadHash.value, 'spec.payloadHash.value'),
  );
  checkSigner(entry, pemToDer(decodeBase64(s.verifier, 'spec.signatures[0].verifier')), signer);
}

function dsseV002(
  entry: TlogEntry,
  body: Record<string, unknown>,
  content: BundleContent,
  signer: LoggedSigner,
): void {
  const env = requireDsse(entry, content);
  const spec = obj(obj(body.spec, 'spec').dsseV002, 'spec.dsseV002');
  const sigs = arr(spec.signatures, 'spec.dsseV002.signatures');
  if (sigs.length !== 1)
    throw mismatch(entry, `logs ${sigs.length} signatures, the envelope has 1`);
  const s = obj(sigs[0], 'signatures[0]');
  if (!bytesEqual(decodeBase64(s.content, 'signatures[0].content'), env.signatures[0]!.sig)) {
    throw mismatch(entry, 'logs a different signature');
  }
  const payloadHash = obj(spec.payloadHash, 'spec.dsseV002.payloadHash');
  checkPayloadHash(
    entry,
    env.payload,
    protoHash(payloadHash.algorithm),
    decodeBase64(payloadHash.digest, 'payloadHash.digest'),
  );
  checkSigner(entry, verifierDer(s.verifier, 'signatures[0].verifier'), signer);
}

function intotoV002(
  entry: TlogEntry,
  body: Record<string, unknown>,
  content: BundleContent,
  signer: LoggedSigner,
): void {
  const env = requireDsse(entry, content);
  const c = obj(obj(body.spec, 'spec').content, 'spec.content');
  const envelope = obj(c.envelope, 'spec.content.envelope');
  const sigs = arr(envelope.signatures, 'spec.content.envelope.signatures');
  if (sigs.length !== 1)
    throw mismatch(entry, `logs ${sigs.length} signatures, the envelope has 1`);
  const s = obj(sigs[0], 'signatures[0]');
  // intoto 0.0.2 stores the signature base64-encoded twice.
  const sigB64 = decodeBase64(s.sig, 'signatures[0].sig').toString('utf8');
  if (!bytesEqual(decodeBase64(sigB64, 'signatures[0].sig (inner)'), env.signatures[0]!.sig)) {
    throw mismatch(entry, 'logs a different signature');
  }
  if (envelope.payloadType !== undefined && envelope.payloadType !== env.payloadType) {
    throw mismatch(
      entry,
      `logs payload type ${JSON.stringify(envelope.payloadType)}, the envelope has ${env.payloadType}`,
    );
  }
  const payloadHash = obj(c.payloadHash, 'spec.content.payloadHash');
  checkPayloadHash(
    entry,
    env.payload,
    str(payloadHash.algorithm, 'payloadHash.algorithm'),
    hexBytes(payloadHash.value, 'payloadHash.value'),
  );
  checkSigner(entry, pemToDer(decodeBase64(s.publicKey, 'signatures[0].publicKey')), signer);
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
