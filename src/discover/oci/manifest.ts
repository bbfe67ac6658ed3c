// Manifests and indexes as a registry serves them: attacker-controlled JSON,
// decoded defensively into the few fields discovery reads. Every failure is a
// MANIFEST_INVALID (or MEDIA_TYPE_UNSUPPORTED) naming the field.
// https://github.com/opencontainers/image-spec/blob/main/manifest.md, index.md
import { DiscoveryError } from '../error.ts';
import {
  IMAGE_MANIFEST_TYPES,
  INDEX_TYPES,
  normalizeMediaType,
  UNSPECIFIED_TYPES,
} from './media.ts';
import { DIGEST } from './reference.ts';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations: Record<string, string>;
}

export type Manifest =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | {
      kind: 'image';
      mediaType: string;
      artifactType?: string;
      config: Descriptor;
      layers: Descriptor[];
      subject?: Descriptor;
      annotations: Record<string, string>;
    };

/** Descriptors listed in one manifest or index, at most. */
const MAX_DESCRIPTORS = 4096;
const MAX_ANNOTATIONS = 256;

/**
 * Decodes a manifest or index. Its type is the body's `mediaType`, else the
 * Content-Type it was served with; when both are given they must agree.
 */
export function parseManifest(body: Buffer, contentType: string, where: string): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw invalid(`${where} is not JSON`, err);
  }
  const obj = asObject(doc, where);
  const served = normalizeMediaType(contentType);
  const declared =
    obj.mediaType === undefined
      ? undefined
      : normalizeMediaType(asString(obj.mediaType, `${where}.mediaType`));
  if (declared !== undefined && !UNSPECIFIED_TYPES.has(served) && declared !== served) {
    throw new DiscoveryError(
      'MEDIA_TYPE_UNSUPPORTED',
      `${where} declares media type ${declared} but was served as ${served}`,
    );
  }
  const mediaType = declared ?? served;
  if (INDEX_TYPES.has(mediaType) || (UNSPECIFIED_TYPES.has(mediaType) && 'manifests' in obj)) {
    return {
      kind: 'index',
      mediaType,
      manifests: descriptors(obj.manifests ?? [], `${where}.manifests`),
    };
  }
  if (
    IMAGE_MANIFEST_TYPES.has(mediaType) ||
    (UNSPECIFIED_TYPES.has(mediaType) && 'layers' in obj)
  ) {
    if (obj.schemaVersion !== 2) {
      throw invalid(`${where}.schemaVersion must be 2`);
    }
    const config = descriptor(obj.config, `${where}.config`);
    return {
      kind: 'image',
      mediaType,
      ...(obj.artifactType === undefined
        ? {}
        : { artifactType: asString(obj.artifactType, `${where}.artifactType`) }),
      config,
      layers: descriptors(obj.layers ?? [], `${where}.layers`),
      ...(obj.subject === undefined
        ? {}
        : { subject: descriptor(obj.subject, `${where}.subject`) }),
      annotations: annotations(obj.annotations, `${where}.annotations`),
    };
  }
  throw new DiscoveryError(
    'MEDIA_TYPE_UNSUPPORTED',
    `${where} has media type ${JSON.stringify(mediaType.slice(0, 100))}, not an OCI or Docker schema 2 manifest or index`,
  );
}

/** The artifact type of a manifest (OCI 1.1: `artifactType`, else the config's media type). */
export function artifactTypeOf(m: Extract<Manifest, { kind: 'image' }>): string {
  return normalizeMediaType(m.artifactType ?? m.config.mediaType);
}

function descriptors(value: unknown, path: string): Descriptor[] {
  if (!Array.isArray(value)) throw invalid(`${path} must be an array`);
  if (value.length > MAX_DESCRIPTORS) {
    throw invalid(`${path} lists ${value.length} descriptors; at most ${MAX_DESCRIPTORS}`);
  }
  return value.map((d, i) => descriptor(d, `${path}[${i}]`));
}

function descriptor(value: unknown, path: string): Descriptor {
  const obj = asObject(value, path);
  const digest = asString(obj.digest, `${path}.digest`);
  if (!DIGEST.test(digest)) {
    throw invalid(`${path}.digest is not a sha256 or sha512 digest`);
  }
  const size = obj.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${path}.size must be a non-negative integer`);
  }
  return {
    mediaType: normalizeMediaType(asString(obj.mediaType, `${path}.mediaType`)),
    digest,
    size,
    ...(obj.artifactType === undefined
      ? {}
      : { artifactType: normalizeMediaType(asString(obj.artifactType, `${path}.artifactType`)) }),
    annotations: annotations(obj.annotations, `${path}.annotations`),
  };
}

function annotations(value: unknown, path: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const obj = asObject(value, path);
  const entries = Object.entries(obj);
  if (entries.length > MAX_ANNOTATIONS) {
    throw invalid(`${path} holds more than ${MAX_ANNOTATIONS} annotations`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (k === '__proto__') continue;
    out[k] = asString(v, `${path}[${JSON.stringify(k.slice(0, 100))}]`);
  }
  return out;
}

function asObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${path} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function asString(value: unknown, path: string): string {
  if (typeof value !== 'string') throw invalid(`${path} must be a string`);
  return value;
}

function invalid(message: string, cause?: unknown): DiscoveryError {
  return new DiscoveryError('MANIFEST_INVALID', message, cause);
}
