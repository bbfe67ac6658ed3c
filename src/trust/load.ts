// The I/O edge of trust: reads trust material from files. Everything else in
// this folder is pure.
import { readFileSync } from 'node:fs';
import { TrustError } from './error.ts';
import { buildTrustMaterial, type KeyInput, type TrustInputs } from './material.ts';
import type { TrustMaterial } from './trust.types.ts';

const EMBEDDED_DIR = new URL('./embedded/', import.meta.url);
const MAX_TRUST_FILE_BYTES = 4 * 1024 * 1024;

export interface TrustSources {
  /** trusted_root.json files (JSON, or JSON Lines with one root per line). Empty: the embedded public-good root. */
  trustedRootFiles?: string[];
  /** Also trust the embedded public-good root when custom roots are given. */
  includeEmbedded?: boolean;
  /** PEM public-key files, each with the key id a bundle's hint will name. */
  keyFiles?: { keyId: string; path: string }[];
  /** npm registry keys documents. Default: the embedded copy. */
  npmKeysFiles?: string[];
}

/** The public-good trusted root and npm registry keys shipped inside provgate (see embedded/PROVENANCE.md). */
export function embeddedTrustedRoot(): unknown {
  return JSON.parse(readFileSync(new URL('public-good.trusted_root.json', EMBEDDED_DIR), 'utf8'));
}

export function embeddedNpmKeys(): unknown {
  return JSON.parse(readFileSync(new URL('npm-registry-keys.json', EMBEDDED_DIR), 'utf8'));
}

export function loadTrustMaterial(sources: TrustSources = {}): TrustMaterial {
  return buildTrustMaterial(loadTrustInputs(sources));
}

/**
 * Reads the trust inputs (parsed roots, key PEMs, npm key documents): plain
 * data, so another thread can build the same TrustMaterial from them.
 */
export function loadTrustInputs(sources: TrustSources = {}): TrustInputs {
  const custom = (sources.trustedRootFiles ?? []).flatMap(parseTrustedRootFile);
  const trustedRoots =
    custom.length === 0 || sources.includeEmbedded === true
      ? [embeddedTrustedRoot(), ...custom]
      : custom;
  const keys: KeyInput[] = (sources.keyFiles ?? []).map((k) => ({
    keyId: k.keyId,
    pem: readText(k.path),
  }));
  const npmKeys =
    sources.npmKeysFiles === undefined
      ? [embeddedNpmKeys()]
      : sources.npmKeysFiles.map((p) => parseJsonFile(readText(p), p));
  return { trustedRoots, keys, npmKeys };
}

/** A trusted_root.json file: one JSON document, or JSON Lines with one root per line. */
export function parseTrustedRootFile(path: string): unknown[] {
  const text = readText(path);
  const trimmed = text.trim();
  if (trimmed.startsWith('{') && !trimmed.includes('\n')) return [parseJsonFile(trimmed, path)];
  try {
    return [JSON.parse(trimmed) as unknown];
  } catch {
    return trimmed
      .split('\n')
      .map((line, i) => ({ line: line.trim(), n: i + 1 }))
      .filter(({ line }) => line.length > 0)
      .map(({ line, n }) => parseJsonFile(line, `${path}:${n}`));
  }
}

function parseJsonFile(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new TrustError('TRUST_MATERIAL_INVALID', `${where} is not valid JSON`, err);
  }
}

function readText(path: string): string {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new TrustError(
      'TRUST_MATERIAL_UNREADABLE',
      `cannot read ${path}: ${(err as Error).message}`,
      err,
    );
  }
  if (buf.length > MAX_TRUST_FILE_BYTES) {
    throw new TrustError(
      'TRUST_MATERIAL_INVALID',
      `${path} is larger than ${MAX_TRUST_FILE_BYTES} bytes`,
    );
  }
  return buf.toString('utf8');
}
