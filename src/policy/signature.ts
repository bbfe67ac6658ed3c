// Signed bundles: OPA's /.signatures.json
// (https://www.openpolicyagent.org/docs/management-bundles#signing). It holds
// one JWT whose payload lists every file of the bundle with its digest. The
// check follows OPA's bundle/verify.go:
// - the key id comes from the configuration, else the JWT's `kid` header, else
//   the payload's deprecated `keyid`; that key must be configured;
// - the JWT must verify under that key with the algorithm configured for it
//   (never the algorithm the token claims: that is the JWT alg-confusion attack);
// - the payload's scope must equal the configured scope;
// - the listed files must be exactly the bundle's files, each with a matching
//   digest (hash.ts: structured files hashed in OPA's canonical form).
// When a key is configured an unsigned bundle is refused; when none is, a
// signed bundle is refused too (as OPA does): a signature nobody checks proves nothing.

import { timingSafeEqual, type KeyObject } from 'node:crypto';

import { compactVerify, decodeProtectedHeader, importSPKI } from 'jose';

import type { BundleFiles } from './archive.ts';
import { PolicyError, describeThrown } from './error.ts';
import { hashBundleFile, isHashAlgorithm } from './hash.ts';
import { decodeJsonFile, isJsonObject } from './json.ts';

export const SIGNATURES_FILE = '.signatures.json';

export type SigningAlgorithm =
  'ES256' | 'ES384' | 'ES512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'EdDSA';

const SIGNING_ALGORITHMS: ReadonlySet<string> = new Set<SigningAlgorithm>([
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
]);

export interface VerificationKey {
  /** A PEM public key (SPKI, "BEGIN PUBLIC KEY") or a public KeyObject. */
  readonly key: string | KeyObject;
  readonly algorithm: SigningAlgorithm;
  /** Expected `scope` claim when the configuration sets none; default "". */
  readonly scope?: string;
}

export interface SignatureConfig {
  /** Trusted keys by key id. An empty set means bundles are not signed. */
  readonly keys: Readonly<Record<string, VerificationKey>>;
  /** Use this key id whatever the bundle says (OPA's `keyid` in bundle verification config). */
  readonly keyId?: string;
  /** Expected `scope` claim; default the key's scope, else "". */
  readonly scope?: string;
}

/** What a verified signature established. */
export interface SignatureFacts {
  readonly keyId: string;
  readonly algorithm: SigningAlgorithm;
  readonly scope: string;
  readonly issuer?: string;
  readonly issuedAt?: number;
  /** Files covered, sorted. */
  readonly files: readonly string[];
}

interface ListedFile {
  readonly hash: string;
  readonly algorithm: string;
}

/**
 * Verifies the bundle's signature against the configured keys. Returns
 * undefined for an unsigned bundle when no key is configured; throws a coded
 * PolicyError for anything else that is not a valid signature over exactly
 * these files.
 */
export async function verifyBundleSignature(
  files: BundleFiles,
  config: SignatureConfig | undefined,
  maxJsonDepth: number,
): Promise<SignatureFacts | undefined> {
  const signatures = files.get(SIGNATURES_FILE);
  const configured = config !== undefined && Object.keys(config.keys).length > 0;
  if (!configured) {
    if (signatures === undefined) return undefined;
    throw new PolicyError(
      'SIGNATURE_KEY_NOT_CONFIGURED',
      `bundle is signed (${SIGNATURES_FILE}) but no bundle verification key is configured`,
    );
  }
  if (signatures === undefined) {
    throw new PolicyError(
      'SIGNATURE_MISSING',
      `bundle has no ${SIGNATURES_FILE} but a bundle verification key is configured`,
    );
  }

  const token = parseSignaturesFile(signatures, maxJsonDepth);
  const { header, payload } = decodeToken(token);

  const keyId = config.keyId ?? header.kid ?? payload.keyid;
  if (keyId === undefined || keyId === '') {
    throw new PolicyError('SIGNATURE_KEY_UNKNOWN', 'bundle signature names no key id');
  }
  const key = Object.hasOwn(config.keys, keyId) ? config.keys[keyId] : undefined;
  if (key === undefined) {
    throw new PolicyError(
      'SIGNATURE_KEY_UNKNOWN',
      `bundle signature names key id ${JSON.stringify(keyId)}, which is not configured`,
    );
  }
  if (!SIGNING_ALGORITHMS.has(key.algorithm)) {
    throw new PolicyError(
      'SIGNATURE_KEY_UNKNOWN',
      `key ${keyId}: algorithm ${String(key.algorithm)} is not supported`,
    );
  }

  let verifiedPayload: Uint8Array;
  try {
    const publicKey =
      typeof key.key === 'string' ? await importSPKI(key.key, key.algorithm) : key.key;
    ({ payload: verifiedPayload } = await compactVerify(token, publicKey, {
      algorithms: [key.algorithm],
    }));
  } catch (err) {
    throw new PolicyError(
      'SIGNATURE_INVALID',
      `bundle signature does not verify with key ${keyId} (${key.algorithm}): ${describeThrown(err)}`,
      err,
    );
  }
  // Read the claims again from the verified bytes: nothing unverified is used below.
  const claims = parseClaims(
    decodeJsonFile(verifiedPayload, 'signature payload', 16, 'SIGNATURE_MALFORMED'),
  );

  const expectedScope = config.scope ?? key.scope ?? '';
  if ((claims.scope ?? '') !== expectedScope) {
    throw new PolicyError(
      'SIGNATURE_SCOPE_MISMATCH',
      `bundle signature scope ${JSON.stringify(claims.scope ?? '')} is not the expected ${JSON.stringify(expectedScope)}`,
    );
  }

  assertFilesMatch(files, claims.files, maxJsonDepth);

  return {
    keyId,
    algorithm: key.algorithm,
    scope: expectedScope,
    ...(claims.iss === undefined ? {} : { issuer: claims.iss }),
    ...(claims.iat === undefined ? {} : { issuedAt: claims.iat }),
    files: [...claims.files.keys()].sort(),
  };
}

function assertFilesMatch(
  files: BundleFiles,
  listed: ReadonlyMap<string, ListedFile>,
  maxJsonDepth: number,
): void {
  for (const [path, bytes] of files) {
    if (path === SIGNATURES_FILE) continue;
    const entry = listed.get(path);
    if (entry === undefined) {
      throw new PolicyError(
        'SIGNATURE_FILE_UNLISTED',
        `bundle file ${path} is not covered by the bundle signature`,
      );
    }
    if (!isHashAlgorithm(entry.algorithm)) {
      throw new PolicyError(
        'SIGNATURE_HASH_UNSUPPORTED',
        `bundle signature hashes ${path} with ${entry.algorithm}; SHA-256, SHA-384 or SHA-512 is required`,
      );
    }
    const actual = hashBundleFile(path, bytes, entry.algorithm, maxJsonDepth);
    const expected = Buffer.from(entry.hash, 'hex');
    if (
      !/^[0-9a-fA-F]*$/.test(entry.hash) ||
      expected.byteLength !== actual.byteLength ||
      !timingSafeEqual(expected, actual)
    ) {
      throw new PolicyError(
        'SIGNATURE_FILE_DIGEST_MISMATCH',
        `bundle file ${path} does not match its digest in the bundle signature`,
      );
    }
  }
  for (const path of listed.keys()) {
    if (!files.has(path)) {
      throw new PolicyError(
        'SIGNATURE_FILE_MISSING',
        `bundle signature lists ${path}, which is not in the bundle`,
      );
    }
  }
}

function parseSignaturesFile(bytes: Uint8Array, maxJsonDepth: number): string {
  const doc = decodeJsonFile(bytes, SIGNATURES_FILE, maxJsonDepth, 'SIGNATURE_MALFORMED');
  if (!isJsonObject(doc)) malformed(`${SIGNATURES_FILE} must be a JSON object`);
  const plugin = doc['plugin'];
  if (plugin !== undefined && plugin !== '' && plugin !== '_default') {
    malformed(`${SIGNATURES_FILE}: signature plugin ${JSON.stringify(plugin)} is not supported`);
  }
  const list = doc['signatures'];
  if (!Array.isArray(list) || list.length !== 1 || typeof list[0] !== 'string') {
    malformed(`${SIGNATURES_FILE}.signatures must hold exactly one JWT`);
  }
  return list[0];
}

interface Claims {
  readonly files: ReadonlyMap<string, ListedFile>;
  readonly keyid?: string;
  readonly scope?: string;
  readonly iss?: string;
  readonly iat?: number;
}

function decodeToken(token: string): { header: { kid?: string }; payload: Claims } {
  const parts = token.split('.');
  if (parts.length !== 3) malformed('bundle signature is not a compact JWS');
  let kid: unknown;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch (err) {
    malformed(`bundle signature header is unreadable: ${describeThrown(err)}`);
  }
  if (kid !== undefined && typeof kid !== 'string')
    malformed('bundle signature kid must be a string');
  const payload = decodeJsonFile(
    Buffer.from(parts[1] as string, 'base64url'),
    'signature payload',
    16,
    'SIGNATURE_MALFORMED',
  );
  return { header: kid === undefined ? {} : { kid }, payload: parseClaims(payload) };
}

function parseClaims(payload: unknown): Claims {
  if (!isJsonObject(payload)) malformed('signature payload must be a JSON object');
  const { files, keyid, scope, iss, iat } = payload;
  if (!Array.isArray(files)) malformed('signature payload.files must be an array');
  const listed = new Map<string, ListedFile>();
  files.forEach((f, i) => {
    if (!isJsonObject(f)) malformed(`signature payload.files[${i}] must be an object`);
    const { name, hash, algorithm } = f;
    if (typeof name !== 'string' || typeof hash !== 'string' || typeof algorithm !== 'string') {
      malformed(`signature payload.files[${i}] needs string name, hash and algorithm`);
    }
    if (listed.has(name)) malformed(`signature payload lists ${name} twice`);
    listed.set(name, { hash, algorithm });
  });
  if (keyid !== undefined && typeof keyid !== 'string')
    malformed('signature keyid must be a string');
  if (scope !== undefined && typeof scope !== 'string')
    malformed('signature scope must be a string');
  if (iss !== undefined && typeof iss !== 'string') malformed('signature iss must be a string');
  if (iat !== undefined && typeof iat !== 'number') malformed('signature iat must be a number');
  return {
    files: listed,
    ...(keyid === undefined ? {} : { keyid }),
    ...(scope === undefined ? {} : { scope }),
    ...(iss === undefined ? {} : { iss }),
    ...(iat === undefined ? {} : { iat }),
  };
}

function malformed(message: string): never {
  throw new PolicyError('SIGNATURE_MALFORMED', message);
}
