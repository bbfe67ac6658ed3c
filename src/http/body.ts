// Request bodies: read raw (bounded by express), parsed with the same bounded
// JSON parser the verifier uses (size and nesting depth checked before parsing),
// and validated with guards that name the failing field.
import type { ArtifactRef } from '../discover/index.ts';
import { parseDigest, VerificationError } from '../verify/index.ts';
import { parseJson } from '../verify/json.ts';
import { HttpError } from './errors.ts';

export interface BodyLimits {
  bodyBytes: number;
  jsonDepth: number;
}

export function parseJsonBody(body: unknown, limits: BodyLimits): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new HttpError('BODY_NOT_JSON', 'the request body must be a JSON document');
  }
  try {
    return parseJson(
      body,
      { maxBytes: limits.bodyBytes, maxDepth: limits.jsonDepth },
      'the request body',
    );
  } catch (err) {
    if (err instanceof VerificationError) {
      const code =
        err.code === 'INPUT_TOO_LARGE'
          ? 'BODY_TOO_LARGE'
          : err.code === 'NESTING_TOO_DEEP'
            ? 'BODY_TOO_DEEP'
            : 'BODY_NOT_JSON';
      throw new HttpError(code, err.message, err);
    }
    throw err;
  }
}

export function asObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError('REQUEST_INVALID', `${path} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function optionalString(value: unknown, path: string, max = 2048): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new HttpError('REQUEST_INVALID', `${path} must be a string of 1 to ${max} characters`);
  }
  return value;
}

/** `{name, version?, uri?, digest: {sha256?, sha512?}}` as the generic and upload APIs take it. */
export function parseArtifact(value: unknown, path = 'artifact'): ArtifactRef {
  const obj = asObject(value, path);
  const name = optionalString(obj.name, `${path}.name`);
  if (name === undefined) throw new HttpError('REQUEST_INVALID', `${path}.name is required`);
  const version = optionalString(obj.version, `${path}.version`, 256);
  const uri = optionalString(obj.uri, `${path}.uri`);
  const digest = asObject(obj.digest, `${path}.digest`);
  const digests: ArtifactRef['digests'] = {};
  for (const [alg, hex] of Object.entries(digest)) {
    if (alg !== 'sha256' && alg !== 'sha512') {
      throw new HttpError(
        'REQUEST_INVALID',
        `${path}.digest.${alg} is not supported (sha256, sha512)`,
      );
    }
    if (typeof hex !== 'string')
      throw new HttpError('REQUEST_INVALID', `${path}.digest.${alg} must be a hex string`);
    try {
      Object.assign(digests, parseDigest(`${alg}:${hex}`));
    } catch (err) {
      throw new HttpError(
        'REQUEST_INVALID',
        `${path}.digest.${alg}: ${(err as Error).message}`,
        err,
      );
    }
  }
  if (digests.sha256 === undefined && digests.sha512 === undefined) {
    throw new HttpError('REQUEST_INVALID', `${path}.digest must give sha256 or sha512`);
  }
  return {
    name,
    ...(version === undefined ? {} : { version }),
    ...(uri === undefined ? {} : { uri }),
    digests,
  };
}

export function parseContext(value: unknown): Record<string, unknown> {
  return value === undefined ? {} : asObject(value, 'context');
}
