// verifyAttestation: one attestation against one artifact, with no network.
// Order of checks: who signed (trusted CA or key), the signature itself, the
// transparency log and timestamps, validity at the verified signing time, the
// statement's subject, and last the caller's identity policy. Each failure is
// a coded VerificationError naming what was wrong.
import { createHash, type KeyObject } from 'node:crypto';
import type { LogAuthority, TrustMaterial, TrustedKey } from '../trust/trust.types.ts';
import type { Bundle, Envelope, HashAlgorithm, ParsedAttestation, TlogEntry } from './bundle.ts';
import { DSSE_ENVELOPE_MEDIA_TYPE } from './bundle.ts';
import { parseLeaf, trustedIssuers, validIssuerAt } from './certificate.ts';
import { verifyScts } from './sct.ts';
import type { Certificate } from './x509.ts';
import { VerificationError } from './error.ts';
import { checkIdentity, extractClaims, subjectAlternativeName } from './identity.ts';
import { describeValue } from './json.ts';
import { matchSubject, parseStatement } from './intoto.ts';
import {
  bytesEqual,
  defaultHash,
  preAuthEncoding,
  verifyPrehashed,
  verifySignature,
} from './signature.ts';
import { normalizeProvenance, reconcileWithCertificate } from './slsa.ts';
import { verifyRfc3161 } from './timestamp.ts';
import { verifyInclusion, withinValidity } from './tlog.ts';
import { verifyTlogBody, type LoggedDigest, type LoggedSigner } from './tlogbody.ts';
import type {
  Artifact,
  DigestAlgorithm,
  Disagreement,
  IdentityPolicy,
  InTotoStatement,
  NormalizedProvenance,
  Signer,
  SignedContent,
  TimestampFact,
  TlogFact,
  VerifiedAttestation,
} from './verify.types.ts';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface VerifyOptions {
  /** Required signer identity for keyless bundles. A key-signed bundle fails any identity policy. */
  identity?: IdentityPolicy;
  /** A key the caller names explicitly (`--key`): used whatever hint the bundle gives. */
  key?: KeyObject;
  /** Verified transparency-log entries required (default 1). */
  tlogThreshold?: number;
  /** Verified SCTs required of a keyless certificate (default 1). */
  ctlogThreshold?: number;
  /** The current time; used only where no verified signing time exists (a bare envelope). */
  now: Date;
}

interface SigningKey {
  key: KeyObject;
  logged: LoggedSigner;
  leaf?: Certificate;
  issuers?: ReturnType<typeof trustedIssuers>;
  trusted?: TrustedKey;
  keyId?: string;
}

export function verifyAttestation(
  attestation: ParsedAttestation,
  artifact: Artifact,
  trust: TrustMaterial,
  options: VerifyOptions,
): VerifiedAttestation {
  return attestation.kind === 'bundle'
    ? verifyBundle(attestation.bundle, attestation.predicateType, artifact, trust, options)
    : verifyEnvelope(attestation.envelope, artifact, trust, options);
}

function verifyBundle(
  bundle: Bundle,
  predicateTypeHint: string | undefined,
  artifact: Artifact,
  trust: TrustMaterial,
  options: VerifyOptions,
): VerifiedAttestation {
  // 1. Who signed: a certificate issued by a trusted CA, or a trusted key.
  const signing = signingKey(bundle, trust, options);

  // 2. The signature, over the artifact (message signature) or the DSSE PAE.
  const content = bundle.content;
  const signature =
    content.kind === 'dsse' ? content.envelope.signatures[0]!.sig : content.signature;
  let signedDigest: SignedDigest | undefined;
  if (content.kind === 'message-signature') {
    signedDigest = verifyMessageSignature(bundle, artifact, signing.key);
  } else {
    const env = content.envelope;
    if (!verifySignature(preAuthEncoding(env.payloadType, env.payload), signing.key, signature)) {
      throw new VerificationError(
        'SIGNATURE_INVALID',
        'the DSSE envelope signature does not verify with the signing key',
      );
    }
  }

  // 3. Transparency log: each entry is in a trusted log and logs this very signature.
  const tlogEntries: TlogFact[] = [];
  const timestamps: TimestampFact[] = [];
  const times: Date[] = [];
  const seen = new Set<string>();
  let loggedDigest: LoggedDigest | undefined;
  const provenOnly: { entry: TlogEntry; logs: LogAuthority[] }[] = [];
  for (const entry of bundle.tlogEntries) {
    const inclusion = verifyInclusion(entry, bundle.version, trust.tlogs);
    if (inclusion.verifiedTime === undefined) provenOnly.push({ entry, logs: inclusion.logs });
    loggedDigest = verifyTlogBody(entry, content, signing.logged) ?? loggedDigest;
    // Copies of one entry must not count twice toward the threshold.
    const id = `${entry.logId.toString('hex')}:${createHash('sha256').update(entry.canonicalizedBody).digest('hex')}`;
    if (seen.has(id)) continue;
    seen.add(id);
    tlogEntries.push(inclusion.fact);
    if (inclusion.verifiedTime !== undefined) {
      times.push(inclusion.verifiedTime);
      timestamps.push({ source: 'tlog', time: inclusion.verifiedTime.toISOString() });
    }
  }
  if (loggedDigest !== undefined && signedDigest !== undefined) {
    const { signed } = signedDigest;
    if (
      loggedDigest.algorithm !== signed.algorithm ||
      !bytesEqual(loggedDigest.digest, signed.digest)
    ) {
      throw new VerificationError(
        'TLOG_ENTRY_MISMATCH',
        `the transparency-log entry logs ${loggedDigest.algorithm}:${loggedDigest.digest.toString('hex')}, not the signed digest ${signed.algorithm}:${signed.digest.toString('hex')}`,
      );
    }
  }
  const tlogThreshold = options.tlogThreshold ?? 1;
  if (tlogEntries.length < tlogThreshold) {
    throw new VerificationError(
      'TLOG_MISSING',
      `the bundle has ${tlogEntries.length} verified transparency-log ${tlogEntries.length === 1 ? 'entry' : 'entries'}; ${tlogThreshold} required`,
    );
  }

  // 4. RFC 3161 timestamps over the signature.
  for (const der of bundle.rfc3161Timestamps) {
    const time = verifyRfc3161(der, signature, trust.timestampAuthorities);
    times.push(time);
    timestamps.push({ source: 'rfc3161', time: time.toISOString() });
  }
  if (times.length === 0) {
    throw new VerificationError(
      'NO_VERIFIED_TIME',
      'the bundle has no verified signing time (no signed entry timestamp and no RFC 3161 timestamp)',
    );
  }

  // 5. Every log and the signer were valid at every verified signing time. (A
  // log whose entry carries a signed entry timestamp was checked at its time.)
  for (const { entry, logs } of provenOnly) {
    const bad = times.find((t) => !logs.some((log) => withinValidity(log, t)));
    if (bad !== undefined) {
      throw new VerificationError(
        'TLOG_LOG_NOT_VALID_AT_TIME',
        `transparency log ${entry.logId.toString('base64')} was not valid at the signing time ${bad.toISOString()}`,
      );
    }
  }
  const signer = checkSignerAt(signing, times, trust, options);

  // 6. What was signed.
  let statement: InTotoStatement | undefined;
  let matchedSubject: VerifiedAttestation['matchedSubject'];
  let signedContent: SignedContent;
  if (content.kind === 'dsse') {
    signedContent = { kind: 'dsse', payloadType: content.envelope.payloadType };
    if (content.envelope.payloadType === IN_TOTO_PAYLOAD_TYPE) {
      statement = inTotoStatement(content.envelope, predicateTypeHint);
      matchedSubject = matchSubject(statement, artifactDigests(artifact));
    } else {
      matchedSubject = payloadIsArtifact(content.envelope, artifact);
    }
  } else {
    matchedSubject = signedDigest!.reported;
    signedContent = {
      kind: 'message-signature',
      digest: { algorithm: signedDigest!.reported.algorithm, hex: signedDigest!.reported.digest },
    };
  }
  const { provenance, disagreements } = provenanceOf(statement, signer);

  // 7. The caller's identity policy, last: a policy mismatch is not a broken signature.
  enforceIdentity(signer, options.identity);

  return {
    mediaType: bundle.mediaType,
    signer,
    content: signedContent,
    ...(statement === undefined ? {} : { statement }),
    matchedSubject,
    ...(provenance === undefined ? {} : { provenance }),
    disagreements,
    tlogEntries,
    timestamps,
  };
}

function verifyEnvelope(
  envelope: Envelope,
  artifact: Artifact,
  trust: TrustMaterial,
  options: VerifyOptions,
): VerifiedAttestation {
  if (envelope.signatures.some((s) => s.cert !== undefined)) {
    // slsa-github-generator before v2.1.0 published envelopes whose proof of
    // logging is only in Rekor; checking it would need an online lookup.
    throw new VerificationError(
      'TLOG_PROOF_MISSING',
      'the DSSE envelope carries a signing certificate but no transparency-log proof; verifying it would need an online Rekor lookup, which provgate does not do (ask the publisher for a Sigstore bundle)',
    );
  }
  const pae = preAuthEncoding(envelope.payloadType, envelope.payload);
  let used: { key: KeyObject; keyId: string } | undefined;
  if (options.key !== undefined) {
    if (envelope.signatures.some((s) => verifySignature(pae, options.key!, s.sig))) {
      used = { key: options.key, keyId: envelope.signatures[0]!.keyid || 'provided key' };
    }
  } else {
    const keys = trust.keys.filter((k) => isUsableKey(k, options.now));
    if (keys.length === 0) {
      throw new VerificationError(
        'KEY_REQUIRED',
        'a bare DSSE envelope can only be verified with a configured public key, and none is configured',
      );
    }
    for (const s of envelope.signatures) {
      const candidates = s.keyid === '' ? keys : keys.filter((k) => k.keyId === s.keyid);
      const k = candidates.find((c) => verifySignature(pae, c.publicKey, s.sig));
      if (k !== undefined) {
        used = { key: k.publicKey, keyId: k.keyId };
        break;
      }
    }
  }
  if (used === undefined) {
    throw new VerificationError(
      'SIGNATURE_INVALID',
      'no signature on the DSSE envelope verifies with a configured public key',
    );
  }
  const statement = inTotoStatement(envelope, undefined);
  const signer: Signer = { kind: 'key', keyId: used.keyId };
  const { provenance, disagreements } = provenanceOf(statement, signer);
  enforceIdentity(signer, options.identity);
  return {
    mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
    signer,
    content: { kind: 'dsse', payloadType: envelope.payloadType },
    statement,
    matchedSubject: matchSubject(statement, artifactDigests(artifact)),
    ...(provenance === undefined ? {} : { provenance }),
    disagreements,
    tlogEntries: [],
    timestamps: [],
  };
}

function isUsableKey(k: TrustedKey, at: Date): boolean {
  return (
    (k.usage === undefined || k.usage === 'npm:attestations') &&
    k.validFor.start <= at &&
    (k.validFor.end === undefined || at <= k.validFor.end)
  );
}

function signingKey(bundle: Bundle, trust: TrustMaterial, options: VerifyOptions): SigningKey {
  const material = bundle.material;
  if (material.kind === 'certificate') {
    const leaf = parseLeaf(material.certificates[0]!);
    const issuers = trustedIssuers(leaf, trust.certificateAuthorities);
    return { key: leaf.publicKey, logged: { kind: 'certificate', der: leaf.der }, leaf, issuers };
  }
  if (options.key !== undefined) {
    return {
      key: options.key,
      keyId: material.hint,
      logged: { kind: 'public-key', der: options.key.export({ type: 'spki', format: 'der' }) },
    };
  }
  // npm registry keys come as one entry per usage; attestations use `npm:attestations`.
  const trusted = trust.keys.filter(
    (k) => k.keyId === material.hint && (k.usage === undefined || k.usage === 'npm:attestations'),
  );
  if (trusted.length === 0) {
    throw new VerificationError(
      'KEY_NOT_FOUND',
      `the bundle is signed by key ${describeValue(material.hint)}, which is not a trusted key`,
    );
  }
  const first = trusted[0]!;
  return {
    key: first.publicKey,
    keyId: material.hint,
    trusted: first,
    logged: { kind: 'public-key', der: first.publicKey.export({ type: 'spki', format: 'der' }) },
  };
}

function checkSignerAt(
  signing: SigningKey,
  times: Date[],
  trust: TrustMaterial,
  options: VerifyOptions,
): Signer {
  if (signing.leaf !== undefined) {
    const ca = validIssuerAt(signing.leaf, signing.issuers!, times);
    const ctlogThreshold = options.ctlogThreshold ?? 1;
    if (ctlogThreshold > 0) {
      const verified = verifyScts(signing.leaf, ca.chain[0]!.publicKey, trust.ctlogs);
      if (verified < ctlogThreshold) {
        throw new VerificationError(
          'SCT_MISSING',
          `the signing certificate carries ${verified} verified SCT${verified === 1 ? '' : 's'}; ${ctlogThreshold} required`,
        );
      }
    }
    const claims = extractClaims(signing.leaf);
    return {
      kind: 'certificate',
      subjectAlternativeName: subjectAlternativeName(signing.leaf),
      ...(claims.issuer === undefined ? {} : { issuer: claims.issuer }),
      claims,
      certificateAuthority: ca.subject || ca.uri,
      notBefore: signing.leaf.notBefore.toISOString(),
      notAfter: signing.leaf.notAfter.toISOString(),
    };
  }
  const trusted = signing.trusted;
  if (trusted !== undefined) {
    const bad = times.find(
      (t) =>
        t < trusted.validFor.start ||
        (trusted.validFor.end !== undefined && t > trusted.validFor.end),
    );
    if (bad !== undefined) {
      throw new VerificationError(
        'KEY_NOT_VALID_AT_SIGNING_TIME',
        `key ${trusted.keyId} was not valid at the signing time ${bad.toISOString()}`,
      );
    }
  }
  return { kind: 'key', keyId: signing.keyId ?? '' };
}

// A message signature signs the artifact: its digest must be the artifact's,
// and the signature must verify over the artifact (or, digest-only, over the digest).
function verifyMessageSignature(bundle: Bundle, artifact: Artifact, key: KeyObject): SignedDigest {
  const content = bundle.content as Extract<Bundle['content'], { kind: 'message-signature' }>;
  const algorithm: HashAlgorithm = content.messageDigest?.algorithm ?? 'sha256';
  let digest: Buffer;
  if (artifact.bytes !== undefined) {
    digest = createHash(algorithm).update(artifact.bytes).digest();
  } else {
    const hex = algorithm === 'sha384' ? undefined : artifact.digests[algorithm];
    if (hex === undefined) {
      throw new VerificationError(
        'ARTIFACT_DIGEST_MISMATCH',
        `the bundle signs the artifact's ${algorithm} digest, and only ${Object.keys(artifact.digests).join(', ')} is known`,
      );
    }
    digest = Buffer.from(hex, 'hex');
  }
  if (content.messageDigest !== undefined && !bytesEqual(content.messageDigest.digest, digest)) {
    throw new VerificationError(
      'ARTIFACT_DIGEST_MISMATCH',
      `the bundle signs ${algorithm}:${describeValue(content.messageDigest.digest.toString('hex'), 128)}, but the artifact is ${algorithm}:${digest.toString('hex')}`,
    );
  }
  const keyHash = defaultHash(key);
  const ok =
    artifact.bytes !== undefined
      ? verifySignature(artifact.bytes, key, content.signature, keyHash === null ? null : algorithm)
      : verifyPrehashed(digest, algorithm, key, content.signature);
  if (!ok) {
    throw new VerificationError(
      'SIGNATURE_INVALID',
      'the message signature does not verify over the artifact with the signing key',
    );
  }
  // Digests carries sha256/sha512 only: a sha384 signature is reported by the
  // artifact's sha256, while the log entry is compared with what was signed.
  const reported: { algorithm: DigestAlgorithm; digest: string } =
    algorithm === 'sha384'
      ? { algorithm: 'sha256', digest: digestOf(artifact, 'sha256') ?? digest.toString('hex') }
      : { algorithm, digest: digest.toString('hex') };
  return { signed: { algorithm, digest }, reported };
}

interface SignedDigest {
  /** The digest the signature covers, as logged by a hashedrekord entry. */
  signed: { algorithm: HashAlgorithm; digest: Buffer };
  /** The artifact digest reported as the matched subject. */
  reported: { algorithm: DigestAlgorithm; digest: string };
}

function digestOf(artifact: Artifact, algorithm: DigestAlgorithm): string | undefined {
  if (artifact.digests[algorithm] !== undefined) return artifact.digests[algorithm];
  return artifact.bytes === undefined
    ? undefined
    : createHash(algorithm).update(artifact.bytes).digest('hex');
}

function artifactDigests(artifact: Artifact) {
  if (artifact.bytes === undefined) return artifact.digests;
  return { sha256: digestOf(artifact, 'sha256')!, sha512: digestOf(artifact, 'sha512')! };
}

// A DSSE payload that is not an in-toto statement names no subject: it binds to
// the artifact only when it is the artifact itself.
function payloadIsArtifact(
  envelope: Envelope,
  artifact: Artifact,
): VerifiedAttestation['matchedSubject'] {
  const digests = artifactDigests(artifact);
  for (const algorithm of ['sha512', 'sha256'] as const) {
    const expected = digests[algorithm];
    if (expected === undefined) continue;
    const actual = createHash(algorithm).update(envelope.payload).digest('hex');
    if (bytesEqual(Buffer.from(actual, 'hex'), Buffer.from(expected, 'hex'))) {
      return { algorithm, digest: actual };
    }
    throw new VerificationError(
      'SUBJECT_DIGEST_MISMATCH',
      `the DSSE payload (type ${JSON.stringify(envelope.payloadType.slice(0, 100))}) is not an in-toto statement, and it is not the artifact ${algorithm}:${expected}`,
    );
  }
  throw new VerificationError('INVALID_DIGEST', 'the artifact has no sha256 or sha512 digest');
}

function inTotoStatement(
  envelope: Envelope,
  predicateTypeHint: string | undefined,
): InTotoStatement {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new VerificationError(
      'PAYLOAD_TYPE_UNSUPPORTED',
      `the DSSE payload type is ${JSON.stringify(envelope.payloadType.slice(0, 100))}, not ${IN_TOTO_PAYLOAD_TYPE}`,
    );
  }
  const statement = parseStatement(envelope.payload);
  if (predicateTypeHint !== undefined && predicateTypeHint !== statement.predicateType) {
    throw new VerificationError(
      'STATEMENT_INVALID',
      `the document lists predicate type ${predicateTypeHint}, but the signed statement is ${statement.predicateType}`,
    );
  }
  return statement;
}

function provenanceOf(
  statement: InTotoStatement | undefined,
  signer: Signer,
): { provenance?: NormalizedProvenance; disagreements: Disagreement[] } {
  if (statement === undefined) return { disagreements: [] };
  const provenance = normalizeProvenance(statement);
  if (provenance === undefined) return { disagreements: [] };
  if (signer.kind !== 'certificate') return { provenance, disagreements: [] };
  return reconcileWithCertificate(provenance, signer.claims);
}

function enforceIdentity(signer: Signer, identity: IdentityPolicy | undefined): void {
  if (identity === undefined) return;
  if (signer.kind !== 'certificate') {
    if (
      identity.subjectAlternativeName === undefined &&
      identity.issuer === undefined &&
      identity.claims === undefined
    )
      return;
    throw new VerificationError(
      'IDENTITY_MISMATCH',
      `the attestation is signed by key ${signer.keyId}, not by a certificate identity`,
    );
  }
  checkIdentity(signer, identity);
}
