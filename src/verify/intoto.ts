// in-toto Statement parsing (v0.1 and v1) and subject matching.
// https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md

import { timingSafeEqual } from 'node:crypto';

import { VerificationError } from './error.ts';
import type { JsonLimits } from './json.ts';
import { childPath, DEFAULT_JSON_LIMITS, describeValue, isJsonObject, parseJson } from './json.ts';
import type { DigestAlgorithm, Digests, InTotoStatement, InTotoSubject } from './verify.types.ts';

export const STATEMENT_TYPE_V01 = 'https://in-toto.io/Statement/v0.1';
export const STATEMENT_TYPE_V1 = 'https://in-toto.io/Statement/v1';

const STATEMENT_TYPES: ReadonlySet<string> = new Set([STATEMENT_TYPE_V01, STATEMENT_TYPE_V1]);

// Hex lengths of the digest algorithms whose size is fixed (in-toto DigestSet
// spec). Other algorithms only need to be lower-case hex of whole bytes.
const DIGEST_HEX_LENGTHS: ReadonlyMap<string, readonly number[]> = new Map([
  ['sha1', [40]],
  ['sha224', [56]],
  ['sha256', [64]],
  ['sha384', [96]],
  ['sha512', [128]],
  ['sha512_224', [56]],
  ['sha512_256', [64]],
  ['sha3_224', [56]],
  ['sha3_256', [64]],
  ['sha3_384', [96]],
  ['sha3_512', [128]],
  ['gitCommit', [40, 64]],
  ['gitTree', [40, 64]],
  ['gitBlob', [40, 64]],
  ['gitTag', [40, 64]],
]);

/** Artifact digest algorithms, strongest first: a match on sha512 is preferred. */
const ARTIFACT_ALGORITHMS: readonly DigestAlgorithm[] = ['sha512', 'sha256'];

const LOWER_HEX = /^(?:[0-9a-f]{2})+$/;

/**
 * Parses and shape-checks a DSSE payload as an in-toto Statement. Decoding
 * failures keep their own codes (MALFORMED_JSON, NESTING_TOO_DEEP,
 * INPUT_TOO_LARGE); anything that is not a v0.1 or v1 Statement is
 * STATEMENT_INVALID, with the failing field path in the message.
 */
export function parseStatement(
  payload: Uint8Array,
  limits: JsonLimits = DEFAULT_JSON_LIMITS,
): InTotoStatement {
  const root = parseJson(payload, limits, 'statement');
  if (!isJsonObject(root)) {
    throw invalid(`statement must be a JSON object, got ${describeValue(root)}`);
  }

  const type = root['_type'];
  if (typeof type !== 'string' || !STATEMENT_TYPES.has(type)) {
    throw invalid(
      `statement._type must be ${STATEMENT_TYPE_V01} or ${STATEMENT_TYPE_V1}, got ${describeValue(type)}`,
    );
  }

  const subjects = root['subject'];
  if (!Array.isArray(subjects) || subjects.length === 0) {
    throw invalid(`statement.subject must be a non-empty array, got ${describeValue(subjects)}`);
  }
  const subject = subjects.map((s, i) => parseSubject(s, childPath('statement.subject', i)));

  const predicateType = root['predicateType'];
  if (typeof predicateType !== 'string' || predicateType === '') {
    throw invalid(
      `statement.predicateType must be a non-empty string, got ${describeValue(predicateType)}`,
    );
  }

  // Optional in v1. A null predicate (Go's encoding of a nil interface) counts as absent.
  const predicate = root['predicate'];
  if (predicate !== undefined && predicate !== null && !isJsonObject(predicate)) {
    throw invalid(`statement.predicate must be an object, got ${describeValue(predicate)}`);
  }

  return { type, subject, predicateType, predicate: predicate ?? undefined };
}

function parseSubject(value: unknown, path: string): InTotoSubject {
  if (!isJsonObject(value)) {
    throw invalid(`${path} must be an object, got ${describeValue(value)}`);
  }
  const name = value['name'];
  if (name !== undefined && typeof name !== 'string') {
    throw invalid(`${path}.name must be a string, got ${describeValue(name)}`);
  }

  const digestPath = `${path}.digest`;
  const digest = value['digest'];
  if (!isJsonObject(digest)) {
    throw invalid(`${digestPath} must be an object, got ${describeValue(digest)}`);
  }
  const entries = Object.entries(digest);
  if (entries.length === 0) {
    throw invalid(`${digestPath} must name at least one digest`);
  }
  for (const [algorithm, hex] of entries) {
    const field = childPath(digestPath, algorithm);
    if (typeof hex !== 'string' || !LOWER_HEX.test(hex)) {
      throw invalid(`${field} must be a lower-case hex string, got ${describeValue(hex)}`);
    }
    const lengths = DIGEST_HEX_LENGTHS.get(algorithm);
    if (lengths !== undefined && !lengths.includes(hex.length)) {
      throw invalid(`${field} must be ${lengths.join(' or ')} hex characters, got ${hex.length}`);
    }
  }

  // Object.fromEntries defines own properties: a `__proto__` algorithm stays a key.
  return {
    name: name ?? '',
    digest: Object.fromEntries(entries as [string, string][]),
  };
}

/**
 * Finds the statement subject that is the artifact. A subject matches when
 * every digest algorithm it shares with the artifact (sha512, sha256) agrees;
 * the strongest shared algorithm is reported. Subjects are tried in order.
 */
export function matchSubject(
  statement: InTotoStatement,
  digests: Digests,
): { name: string; algorithm: DigestAlgorithm; digest: string } {
  const artifact = artifactDigests(digests);

  let comparable = false;
  for (const subject of statement.subject) {
    const shared = artifact.filter(([algorithm]) => Object.hasOwn(subject.digest, algorithm));
    if (shared.length === 0) continue;
    comparable = true;
    const matches = shared.every(([algorithm, expected]) =>
      digestEquals(expected, subject.digest[algorithm]),
    );
    if (matches) {
      const [algorithm, digest] = shared[0]!;
      return { name: subject.name, algorithm, digest };
    }
  }

  const [algorithm, hex] = artifact[0]!;
  if (!comparable) {
    const carried = new Set(statement.subject.flatMap((s) => Object.keys(s.digest)));
    throw new VerificationError(
      'SUBJECT_DIGEST_MISMATCH',
      `none of the statement's subjects has a ${artifact.map(([a]) => a).join(' or ')} digest ` +
        `to compare with the artifact (they carry ${[...carried].map((a) => describeValue(a, 20)).join(', ') || 'none'})`,
    );
  }
  throw new VerificationError(
    'SUBJECT_DIGEST_MISMATCH',
    `artifact ${algorithm}:${abbreviate(hex)} matches none of the statement's subjects ` +
      `(${describeSubjects(statement.subject, artifact)})`,
  );
}

// The artifact's digests, strongest first, validated and lower-cased.
function artifactDigests(digests: Digests): [DigestAlgorithm, string][] {
  const present: [DigestAlgorithm, string][] = [];
  for (const algorithm of ARTIFACT_ALGORITHMS) {
    const value: unknown = digests[algorithm];
    if (value === undefined) continue;
    const hex = typeof value === 'string' ? value.toLowerCase() : undefined;
    const length = DIGEST_HEX_LENGTHS.get(algorithm)?.[0];
    if (hex === undefined || hex.length !== length || !LOWER_HEX.test(hex)) {
      throw new VerificationError(
        'INVALID_DIGEST',
        `artifact ${algorithm} digest must be ${length} hex characters, got ${describeValue(value)}`,
      );
    }
    present.push([algorithm, hex]);
  }
  if (present.length === 0) {
    throw new VerificationError('INVALID_DIGEST', 'artifact has no sha512 or sha256 digest');
  }
  return present;
}

// Constant-time comparison of two hex digests; anything that is not hex of the
// same length is unequal.
function digestEquals(expected: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  const normalized = actual.toLowerCase();
  if (normalized.length !== expected.length || !LOWER_HEX.test(normalized)) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(normalized, 'hex'));
}

const MAX_LISTED_SUBJECTS = 5;

function describeSubjects(
  subjects: readonly InTotoSubject[],
  artifact: readonly [DigestAlgorithm, string][],
): string {
  const listed = subjects.slice(0, MAX_LISTED_SUBJECTS).map((subject) => {
    const digests = artifact
      .filter(([algorithm]) => Object.hasOwn(subject.digest, algorithm))
      .map(([algorithm]) => `${algorithm}:${abbreviate(subject.digest[algorithm] ?? '')}`);
    const name =
      subject.name === '' ? '(unnamed)' : JSON.stringify(subject.name.slice(0, 60)).slice(1, -1);
    return `${name} ${digests.join(' ') || '(no comparable digest)'}`;
  });
  const more = subjects.length - listed.length;
  return more > 0 ? `${listed.join(', ')} and ${more} more` : listed.join(', ');
}

function abbreviate(hex: string): string {
  return hex.length > 12 ? `${hex.slice(0, 12)}…` : hex;
}

function invalid(message: string): VerificationError {
  return new VerificationError('STATEMENT_INVALID', message);
}
