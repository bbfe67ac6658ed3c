// Signer identity from a Fulcio certificate, and the identity policy check.
// Extension OIDs and encodings: https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md

import { VerificationError } from './error.ts';
import { describeValue, isJsonObject } from './json.ts';
import type { ClaimName, FulcioClaims, IdentityPolicy, Matcher } from './verify.types.ts';
import type { Certificate } from './x509.ts';

/** What identity needs of a certificate: its extensions, by OID (see x509.ts). */
export type CertificateExtensions = Pick<Certificate, 'extensions'>;

const FULCIO = '1.3.6.1.4.1.57264.1';
const OID_ISSUER_V1 = `${FULCIO}.1`;
const OID_ISSUER_V2 = `${FULCIO}.8`;
const OID_SUBJECT_ALT_NAME = '2.5.29.17';

// .1 to .6 hold the raw string bytes; .8 onwards a DER UTF8String.
type Encoding = 'raw' | 'utf8string';

const CLAIM_EXTENSIONS: readonly { arc: number; claim: ClaimName; encoding: Encoding }[] = [
  { arc: 2, claim: 'githubWorkflowTrigger', encoding: 'raw' },
  { arc: 3, claim: 'githubWorkflowSha', encoding: 'raw' },
  { arc: 4, claim: 'githubWorkflowName', encoding: 'raw' },
  { arc: 5, claim: 'githubWorkflowRepository', encoding: 'raw' },
  { arc: 6, claim: 'githubWorkflowRef', encoding: 'raw' },
  { arc: 9, claim: 'buildSignerUri', encoding: 'utf8string' },
  { arc: 10, claim: 'buildSignerDigest', encoding: 'utf8string' },
  { arc: 11, claim: 'runnerEnvironment', encoding: 'utf8string' },
  { arc: 12, claim: 'sourceRepositoryUri', encoding: 'utf8string' },
  { arc: 13, claim: 'sourceRepositoryDigest', encoding: 'utf8string' },
  { arc: 14, claim: 'sourceRepositoryRef', encoding: 'utf8string' },
  { arc: 15, claim: 'sourceRepositoryIdentifier', encoding: 'utf8string' },
  { arc: 16, claim: 'sourceRepositoryOwnerUri', encoding: 'utf8string' },
  { arc: 17, claim: 'sourceRepositoryOwnerIdentifier', encoding: 'utf8string' },
  { arc: 18, claim: 'buildConfigUri', encoding: 'utf8string' },
  { arc: 19, claim: 'buildConfigDigest', encoding: 'utf8string' },
  { arc: 20, claim: 'buildTrigger', encoding: 'utf8string' },
  { arc: 21, claim: 'runInvocationUri', encoding: 'utf8string' },
  { arc: 22, claim: 'sourceRepositoryVisibilityAtSigning', encoding: 'utf8string' },
  { arc: 23, claim: 'deploymentEnvironment', encoding: 'utf8string' },
];

/** Every claim name, in the order checkIdentity checks them. */
const CLAIM_NAMES: readonly ClaimName[] = ['issuer', ...CLAIM_EXTENSIONS.map(({ claim }) => claim)];

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads every Fulcio claim from the certificate's extensions. `issuer` is the
 * v2 (DER) extension when present, else the deprecated v1 one; when both are
 * present they must agree. Malformed or duplicated extensions are
 * CERTIFICATE_INVALID.
 */
export function extractClaims(cert: CertificateExtensions): FulcioClaims {
  const extensions = cert.extensions;
  const claims: FulcioClaims = {};

  const issuerV1 = decodeExtension(extensions, OID_ISSUER_V1, 'raw', 'issuer (v1)');
  const issuerV2 = decodeExtension(extensions, OID_ISSUER_V2, 'utf8string', 'issuer (v2)');
  if (issuerV1 !== undefined && issuerV2 !== undefined && issuerV1 !== issuerV2) {
    throw new VerificationError(
      'CERTIFICATE_INVALID',
      `certificate issuer extensions disagree: v1 ${describeValue(issuerV1)}, v2 ${describeValue(issuerV2)}`,
    );
  }
  const issuer = issuerV2 ?? issuerV1;
  if (issuer !== undefined) claims.issuer = issuer;

  for (const { arc, claim, encoding } of CLAIM_EXTENSIONS) {
    const value = decodeExtension(extensions, `${FULCIO}.${arc}`, encoding, claim);
    if (value !== undefined) claims[claim] = value;
  }
  return claims;
}

function decodeExtension(
  extensions: ReadonlyMap<string, Uint8Array>,
  oid: string,
  encoding: Encoding,
  name: string,
): string | undefined {
  const value = extensions.get(oid);
  if (value === undefined) return undefined;
  const what = `certificate extension ${oid} (${name})`;
  if (encoding === 'raw') return decodeUtf8(value, what);

  const element = readElement(value, 0, what);
  if (element.tag !== TAG_UTF8_STRING || element.end !== value.length) {
    throw new VerificationError('CERTIFICATE_INVALID', `${what} must be a DER UTF8String`);
  }
  return decodeUtf8(element.contents, what);
}

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return UTF8.decode(bytes);
  } catch (err) {
    throw new VerificationError('CERTIFICATE_INVALID', `${what} is not valid UTF-8`, err);
  }
}

const TAG_SEQUENCE = 0x30;
const TAG_OID = 0x06;
const TAG_UTF8_STRING = 0x0c;
const TAG_OTHER_NAME = 0xa0; // [0] constructed
const TAG_RFC822_NAME = 0x81; // [1] IA5String
const TAG_URI = 0x86; // [6] IA5String
const TAG_EXPLICIT_0 = 0xa0;
// DER contents of OID 1.3.6.1.4.1.57264.1.7, Fulcio's username otherName.
const OID_FULCIO_USERNAME = Uint8Array.from([
  0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x07,
]);

/**
 * The certificate's identity: its one URI, email (rfc822Name) or Fulcio
 * username (otherName 1.3.6.1.4.1.57264.1.7) subject alternative name.
 * CERTIFICATE_INVALID when there is none, or more than one (which of them a
 * policy would match is ambiguous), or the extension is malformed.
 */
export function subjectAlternativeName(cert: CertificateExtensions): string {
  const value = cert.extensions.get(OID_SUBJECT_ALT_NAME);
  if (value === undefined) {
    throw new VerificationError(
      'CERTIFICATE_INVALID',
      'certificate has no subject alternative name',
    );
  }
  const what = 'certificate subject alternative name';

  // GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName (RFC 5280 section 4.2.1.6)
  const names = readElement(value, 0, what);
  if (names.tag !== TAG_SEQUENCE || names.end !== value.length) {
    throw new VerificationError('CERTIFICATE_INVALID', `${what} must be a SEQUENCE of GeneralName`);
  }
  const identities: string[] = [];
  for (let offset = 0; offset < names.contents.length;) {
    const name = readElement(names.contents, offset, what);
    offset = name.end;
    switch (name.tag) {
      case TAG_URI:
      case TAG_RFC822_NAME:
        identities.push(decodeIa5(name.contents, what));
        break;
      case TAG_OTHER_NAME: {
        const username = fulcioUsername(name.contents, what);
        if (username !== undefined) identities.push(username);
        break;
      }
      default:
        break; // DNS names, IP addresses...: not a Sigstore identity
    }
  }
  if (identities.length !== 1) {
    throw new VerificationError(
      'CERTIFICATE_INVALID',
      identities.length === 0
        ? `${what} has no URI, email or Fulcio username`
        : `${what} has ${identities.length} identities; exactly one is required`,
    );
  }
  return identities[0]!;
}

// OtherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY } (IMPLICIT-tagged [0]).
function fulcioUsername(contents: Uint8Array, what: string): string | undefined {
  const typeId = readElement(contents, 0, what);
  if (typeId.tag !== TAG_OID) {
    throw new VerificationError(
      'CERTIFICATE_INVALID',
      `${what} has an otherName without a type-id`,
    );
  }
  const explicit = readElement(contents, typeId.end, what);
  if (explicit.tag !== TAG_EXPLICIT_0 || explicit.end !== contents.length) {
    throw new VerificationError('CERTIFICATE_INVALID', `${what} has a malformed otherName`);
  }
  if (!Buffer.from(typeId.contents).equals(OID_FULCIO_USERNAME)) return undefined;
  const username = readElement(explicit.contents, 0, what);
  if (username.tag !== TAG_UTF8_STRING || username.end !== explicit.contents.length) {
    throw new VerificationError('CERTIFICATE_INVALID', `${what} username must be a UTF8String`);
  }
  return decodeUtf8(username.contents, what);
}

// IA5String restricted to printable ASCII: control characters have no place in an identity.
function decodeIa5(bytes: Uint8Array, what: string): string {
  if (bytes.length === 0 || bytes.some((b) => b < 0x20 || b > 0x7e)) {
    throw new VerificationError('CERTIFICATE_INVALID', `${what} must be non-empty printable ASCII`);
  }
  return Buffer.from(bytes).toString('latin1');
}

interface Element {
  tag: number;
  contents: Uint8Array;
  /** Offset just past the element. */
  end: number;
}

// One DER element: low tag numbers, definite minimal lengths, within bounds.
function readElement(buf: Uint8Array, offset: number, what: string): Element {
  const malformed = (reason: string): VerificationError =>
    new VerificationError('CERTIFICATE_INVALID', `${what} is malformed DER: ${reason}`);
  const byteAt = (i: number): number => {
    const b = buf[i];
    if (b === undefined) throw malformed('truncated');
    return b;
  };

  const tag = byteAt(offset);
  if ((tag & 0x1f) === 0x1f) throw malformed('high tag number');
  let pos = offset + 1;
  let length = byteAt(pos++);
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0) throw malformed('indefinite length');
    if (octets > 4) throw malformed('length too large');
    if (byteAt(pos) === 0) throw malformed('non-minimal length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + byteAt(pos++);
    if (length < 0x80) throw malformed('non-minimal length');
  }
  if (pos + length > buf.length) throw malformed('truncated');
  return { tag, contents: buf.subarray(pos, pos + length), end: pos + length };
}

/** Longest accepted regex source: patterns come from policy, but bound the work anyway. */
export const MAX_MATCHER_PATTERN_LENGTH = 1024;

/**
 * Compiles `{ exact }` to string equality and `{ regex }` to a full-string
 * match: the pattern is compiled alone first (so `a)|(b` cannot close the
 * anchoring group early), then wrapped as `^(?:pattern)$` with the `u` flag.
 * `foo` never matches `xfoox`, `a|b` never matches `ab`. An undefined value
 * never matches. Invalid matchers, patterns over
 * MAX_MATCHER_PATTERN_LENGTH and patterns with nested repetition (the shape of
 * catastrophic backtracking, e.g. `(a+)+`) are INVALID_MATCHER.
 */
export function compileMatcher(m: Matcher): (value: string | undefined) => boolean {
  const matcher: unknown = m;
  if (!isJsonObject(matcher)) {
    throw new VerificationError(
      'INVALID_MATCHER',
      `matcher must be an object, got ${describeValue(matcher)}`,
    );
  }
  const keys = Object.keys(matcher);
  if (keys.length !== 1 || (keys[0] !== 'exact' && keys[0] !== 'regex')) {
    throw new VerificationError(
      'INVALID_MATCHER',
      `matcher must have exactly one of "exact" or "regex", got ${describeValue(keys.join(', '))}`,
    );
  }

  const exact = matcher['exact'];
  if (keys[0] === 'exact') {
    if (typeof exact !== 'string') {
      throw new VerificationError(
        'INVALID_MATCHER',
        `matcher.exact must be a string, got ${describeValue(exact)}`,
      );
    }
    return (value) => value === exact;
  }

  const source = matcher['regex'];
  if (typeof source !== 'string') {
    throw new VerificationError(
      'INVALID_MATCHER',
      `matcher.regex must be a string, got ${describeValue(source)}`,
    );
  }
  if (source.length > MAX_MATCHER_PATTERN_LENGTH) {
    throw new VerificationError(
      'INVALID_MATCHER',
      `matcher.regex is ${source.length} characters, over the limit of ${MAX_MATCHER_PATTERN_LENGTH}`,
    );
  }
  let pattern: RegExp;
  try {
    new RegExp(source, 'u'); // throws unless the pattern is valid on its own
    pattern = new RegExp(`^(?:${source})$`, 'u');
  } catch (err) {
    throw new VerificationError(
      'INVALID_MATCHER',
      `matcher.regex ${describeValue(source)} is not a valid regular expression`,
      err,
    );
  }
  if (hasNestedRepetition(source)) {
    throw new VerificationError(
      'INVALID_MATCHER',
      `matcher.regex ${describeValue(source)} repeats a group that itself repeats (catastrophic backtracking)`,
    );
  }
  return (value) => value !== undefined && pattern.test(value);
}

// True when a repeated group (`(...)*`, `+`, `{n,m}`) contains a repetition.
// Star height above one is what makes backtracking exponential. The pattern is
// known to be valid (u flag) when this runs.
function hasNestedRepetition(source: string): boolean {
  // One frame per open group: does it contain a repetition?
  const groups: boolean[] = [false];
  let lastAtomRepeats = false; // the atom just closed was a group containing repetition
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    switch (c) {
      case '\\': {
        const next = source[i + 1];
        i++;
        if ((next === 'p' || next === 'P' || next === 'u') && source[i + 1] === '{') {
          i = source.indexOf('}', i);
        } else if (next === 'k' && source[i + 1] === '<') {
          i = source.indexOf('>', i);
        }
        lastAtomRepeats = false;
        break;
      }
      case '[': {
        // Skip the class; `]` may be escaped inside it.
        for (i++; i < source.length && source[i] !== ']'; i++) {
          if (source[i] === '\\') i++;
        }
        lastAtomRepeats = false;
        break;
      }
      case '(':
        groups.push(false);
        lastAtomRepeats = false;
        break;
      case ')': {
        const inner = groups.pop() ?? false;
        lastAtomRepeats = inner;
        if (inner) groups[groups.length - 1] = true;
        break;
      }
      case '*':
      case '+':
      case '{': {
        // `{n}` repeats a fixed number of times; `{n,}` and `{n,m}` are repetition.
        let repeats = true;
        if (c === '{') {
          const close = source.indexOf('}', i);
          repeats = source.slice(i, close).includes(',');
          i = close;
        }
        if (source[i + 1] === '?') i++; // lazy quantifier
        if (repeats) {
          if (lastAtomRepeats) return true;
          groups[groups.length - 1] = true;
        }
        lastAtomRepeats = false;
        break;
      }
      default:
        lastAtomRepeats = false;
    }
  }
  return false;
}

/**
 * Checks the signer against the identity policy: IDENTITY_MISMATCH for the
 * subject alternative name, ISSUER_MISMATCH, CLAIM_MISMATCH naming the claim,
 * the expected matcher and the actual value. All matchers are compiled first,
 * so an invalid policy is INVALID_MATCHER whatever the signer.
 */
export function checkIdentity(
  signer: { subjectAlternativeName: string; issuer?: string; claims: FulcioClaims },
  policy: IdentityPolicy,
): void {
  const san = policy.subjectAlternativeName && compileMatcher(policy.subjectAlternativeName);
  const issuer = policy.issuer && compileMatcher(policy.issuer);

  const claimPolicy: unknown = policy.claims ?? {};
  if (!isJsonObject(claimPolicy)) {
    throw new VerificationError(
      'INVALID_MATCHER',
      `policy.claims must be an object, got ${describeValue(claimPolicy)}`,
    );
  }
  for (const name of Object.keys(claimPolicy)) {
    if (!(CLAIM_NAMES as readonly string[]).includes(name)) {
      throw new VerificationError(
        'INVALID_MATCHER',
        `policy.claims names an unknown claim ${describeValue(name)}`,
      );
    }
  }
  const claims = CLAIM_NAMES.flatMap((name) => {
    const matcher = claimPolicy[name] as Matcher | undefined;
    return matcher === undefined ? [] : [{ name, matcher, matches: compileMatcher(matcher) }];
  });

  if (san && !san(signer.subjectAlternativeName)) {
    throw new VerificationError(
      'IDENTITY_MISMATCH',
      `subject alternative name ${describeValue(signer.subjectAlternativeName)} does not match ${describeMatcher(policy.subjectAlternativeName!)}`,
    );
  }
  const actualIssuer = signer.issuer ?? signer.claims.issuer;
  if (issuer && !issuer(actualIssuer)) {
    throw new VerificationError(
      'ISSUER_MISMATCH',
      `issuer ${describeValue(actualIssuer)} does not match ${describeMatcher(policy.issuer!)}`,
    );
  }
  for (const { name, matcher, matches } of claims) {
    const actual = signer.claims[name];
    if (!matches(actual)) {
      throw new VerificationError(
        'CLAIM_MISMATCH',
        `certificate claim ${name} ${describeValue(actual)} does not match ${describeMatcher(matcher)}`,
      );
    }
  }
}

function describeMatcher(m: Matcher): string {
  return 'exact' in m
    ? `exactly ${describeValue(m.exact)}`
    : `/^(?:${describeValue(m.regex).slice(1, -1)})$/u`;
}
