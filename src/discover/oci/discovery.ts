// Attestation discovery from OCI registries, the way they are published:
//   1. the OCI 1.1 referrers API, `GET /v2/<name>/referrers/<digest>`
//      (Sigstore bundles attached by `gh attestation`, `cosign --new-bundle-format`, `oras attach`);
//   2. the referrers tag schema, the `sha256-<hex>` index, where the API is missing
//      (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#referrers-tag-schema);
//   3. cosign's attestation tag `sha256-<hex>.att` (see cosign.ts).
// Everything found is handed on as bytes; nothing here is trusted: the
// verifier checks signatures and subjects. What is checked here is that the
// registry served what was asked for (digests) within the limits.
import { createHash, timingSafeEqual } from 'node:crypto';
import type {
  ArtifactRef,
  AttestationDiscovery,
  DiscoveredAttestation,
} from '../discover.types.ts';
import { DiscoveryError } from '../error.ts';
import { Flights, Lru } from './cache.ts';
import { createRegistryClient } from './client.ts';
import { COSIGN_ANNOTATIONS, cosignAttestationDocument } from './cosign.ts';
import { artifactTypeOf, parseManifest, type Descriptor, type Manifest } from './manifest.ts';
import {
  ATTESTATION_LAYER_TYPES,
  DOCKER_MANIFEST,
  DSSE_ENVELOPE,
  MANIFEST_ACCEPT,
  normalizeMediaType,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_MANIFEST,
  UNSPECIFIED_TYPES,
} from './media.ts';
import { resolveOptions, type AttestationSource, type OciDiscoveryOptions } from './options.ts';
import {
  DIGEST,
  formatRepository,
  parseReference,
  parseRepository,
  type RepositoryRef,
} from './reference.ts';

export interface ResolvedTag {
  /** What the kubelet pulls for this reference: the index digest when the tag names an index. */
  digest: string;
  /** Media type of the manifest or index the tag names (empty when the reference was pinned). */
  mediaType: string;
  registry: string;
  repository: string;
}

export interface OciDiscoveryStats {
  /** HTTP exchanges with registries and token services. */
  requests: number;
  retries: number;
  tokenFetches: number;
  cacheHits: number;
  cacheMisses: number;
  /** Fetches that joined an identical one already in flight. */
  collapsed: number;
  cacheEntries: number;
  cacheBytes: number;
}

export interface OciDiscovery extends AttestationDiscovery {
  /** Resolves `registry/repo:tag` to a digest; a reference pinned by digest is returned as is. */
  resolveTag(ref: string, signal: AbortSignal): Promise<ResolvedTag>;
  readonly stats: OciDiscoveryStats;
  /** Closes idle registry connections (at shutdown); the discovery stays usable. */
  close(): void;
}

type Cached =
  | { kind: 'manifest'; manifest: Manifest }
  | { kind: 'blob'; bytes: Buffer }
  | { kind: 'tag'; resolved: ResolvedTag }
  | { kind: 'referrers'; supported: boolean; descriptors: Descriptor[] }
  | { kind: 'tagged'; manifest: Manifest | undefined };

const SOURCE_NAMES: Record<AttestationSource, string> = {
  referrers: 'referrers API',
  'referrers-tag': 'referrers tag',
  'cosign-att': 'cosign .att tag',
};

export function createOciDiscovery(options: OciDiscoveryOptions = {}): OciDiscovery {
  const o = resolveOptions(options);
  const client = createRegistryClient(o);
  const cache = new Lru<Cached>({
    maxEntries: o.cache.maxEntries,
    maxBytes: o.cache.maxBytes,
    now: o.now,
  });
  const flights = new Flights();
  const counters = { hits: 0, misses: 0 };

  /** The cached value for `key`, or `load`'s, shared with an identical load in flight. */
  async function cached<T extends Cached>(
    key: string,
    signal: AbortSignal,
    load: (signal: AbortSignal) => Promise<{ value: T; size: number; ttlMs?: number }>,
  ): Promise<T> {
    const hit = cache.get(key);
    if (hit !== undefined) {
      counters.hits++;
      return hit as T;
    }
    counters.misses++;
    return flights.run(key, signal, async (shared) => {
      const { value, size, ttlMs } = await load(shared);
      cache.set(key, value, size, ttlMs);
      return value;
    });
  }

  async function resolveTag(ref: string, signal: AbortSignal): Promise<ResolvedTag> {
    const parsed = parseReference(ref);
    const repo = { registry: parsed.registry, repository: parsed.repository };
    if (parsed.digest !== undefined) {
      // Pinned: the kubelet pulls exactly this digest; no registry round trip.
      return { digest: parsed.digest, mediaType: '', ...repo };
    }
    const tag = parsed.tag ?? 'latest';
    return guard(signal, `resolving ${formatRepository(repo)}:${tag}`, async () => {
      const entry = await cached<Extract<Cached, { kind: 'tag' }>>(
        `tag|${formatRepository(repo)}:${tag}`,
        signal,
        async (s) => ({
          value: { kind: 'tag', resolved: await resolveNow(repo, tag, s) },
          size: 256,
          ttlMs: o.cache.tagTtlMs,
        }),
      );
      return entry.resolved;
    });
  }

  // HEAD first, as containerd does: its Docker-Content-Digest is the digest
  // the runtime pulls. A registry that gives none is asked with a GET, and
  // the digest computed from the body.
  async function resolveNow(
    repo: RepositoryRef,
    tag: string,
    signal: AbortSignal,
  ): Promise<ResolvedTag> {
    const where = `${formatRepository(repo)}:${tag}`;
    const head = await client.request(repo, {
      method: 'HEAD',
      path: `manifests/${tag}`,
      accept: MANIFEST_ACCEPT,
      maxBytes: 0,
      signal,
    });
    if (head.status === 404) {
      throw new DiscoveryError('TAG_NOT_FOUND', `tag ${where} not found in ${repo.registry}`);
    }
    const type = normalizeMediaType(String(head.headers['content-type'] ?? ''));
    const length = Number(head.headers['content-length']);
    if (Number.isFinite(length) && length > o.limits.manifestBytes) {
      throw new DiscoveryError(
        'RESPONSE_TOO_LARGE',
        `${where} is a ${length}-byte manifest, larger than ${o.limits.manifestBytes} bytes`,
      );
    }
    const headerDigest = head.headers['docker-content-digest'];
    if (
      MANIFEST_ACCEPT.includes(type) &&
      typeof headerDigest === 'string' &&
      DIGEST.test(headerDigest)
    ) {
      return { digest: headerDigest, mediaType: type, ...repo };
    }
    if (!UNSPECIFIED_TYPES.has(type) && !MANIFEST_ACCEPT.includes(type)) {
      throw new DiscoveryError(
        'MEDIA_TYPE_UNSUPPORTED',
        `${where} is served as ${JSON.stringify(type.slice(0, 100))}, not an OCI or Docker schema 2 manifest or index`,
      );
    }
    const res = await client.request(repo, {
      method: 'GET',
      path: `manifests/${tag}`,
      accept: MANIFEST_ACCEPT,
      maxBytes: o.limits.manifestBytes,
      signal,
    });
    if (res.status === 404) {
      throw new DiscoveryError('TAG_NOT_FOUND', `tag ${where} not found in ${repo.registry}`);
    }
    const manifest = parseManifest(res.body, String(res.headers['content-type'] ?? ''), where);
    const digest = `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
    const claimed = res.headers['docker-content-digest'];
    if (
      typeof claimed === 'string' &&
      claimed.startsWith('sha256:') &&
      !sameDigest(claimed, digest)
    ) {
      throw new DiscoveryError(
        'DIGEST_MISMATCH',
        `${repo.registry} says ${where} is ${claimed}, but the manifest it served is ${digest}`,
      );
    }
    cache.set(manifestKey(repo, digest), { kind: 'manifest', manifest }, res.body.length);
    return { digest, mediaType: manifest.mediaType, ...repo };
  }

  /** A manifest by digest: immutable, so cached until evicted; its bytes must hash to the digest. */
  function getManifest(
    repo: RepositoryRef,
    digest: string,
    signal: AbortSignal,
  ): Promise<Manifest> {
    return cached<Extract<Cached, { kind: 'manifest' }>>(
      manifestKey(repo, digest),
      signal,
      async (s) => {
        const where = `${formatRepository(repo)}@${digest}`;
        const res = await client.request(repo, {
          method: 'GET',
          path: `manifests/${digest}`,
          accept: MANIFEST_ACCEPT,
          maxBytes: o.limits.manifestBytes,
          signal: s,
        });
        if (res.status === 404) {
          throw new DiscoveryError('MANIFEST_NOT_FOUND', `manifest ${where} not found`);
        }
        checkDigest(res.body, digest, where, repo.registry);
        const manifest = parseManifest(res.body, String(res.headers['content-type'] ?? ''), where);
        return { value: { kind: 'manifest', manifest }, size: res.body.length };
      },
    ).then((c) => c.manifest);
  }

  /** A blob by digest: the descriptor's size is checked before fetching, the bytes after. */
  function getBlob(repo: RepositoryRef, d: Descriptor, signal: AbortSignal): Promise<Buffer> {
    const where = `${formatRepository(repo)}@${d.digest}`;
    if (d.size > o.limits.blobBytes) {
      return Promise.reject(
        new DiscoveryError(
          'RESPONSE_TOO_LARGE',
          `blob ${where} is ${d.size} bytes, larger than ${o.limits.blobBytes} bytes`,
        ),
      );
    }
    return cached<Extract<Cached, { kind: 'blob' }>>(
      `blob|${formatRepository(repo)}@${d.digest}`,
      signal,
      async (s) => {
        const res = await client.request(repo, {
          method: 'GET',
          path: `blobs/${d.digest}`,
          maxBytes: d.size,
          signal: s,
        });
        if (res.status === 404) {
          throw new DiscoveryError('MANIFEST_NOT_FOUND', `blob ${where} not found`);
        }
        checkDigest(res.body, d.digest, where, repo.registry);
        return { value: { kind: 'blob', bytes: res.body }, size: res.body.length };
      },
    ).then((c) => c.bytes);
  }

  /** The referrers API answer, all pages; `supported: false` when the registry has no such API. */
  function listReferrers(
    repo: RepositoryRef,
    digest: string,
    signal: AbortSignal,
  ): Promise<Extract<Cached, { kind: 'referrers' }>> {
    return cached<Extract<Cached, { kind: 'referrers' }>>(
      `referrers|${formatRepository(repo)}@${digest}`,
      signal,
      async (s) => {
        const descriptors: Descriptor[] = [];
        let path = `referrers/${digest}`;
        let size = 0;
        for (let page = 0; page < o.limits.pages; page++) {
          const res = await client.request(repo, {
            method: 'GET',
            path,
            accept: [OCI_INDEX],
            maxBytes: o.limits.referrersBytes,
            signal: s,
          });
          if (res.status === 404) {
            // No referrers API here (a registry with it answers an empty index).
            if (page === 0) {
              return {
                value: { kind: 'referrers', supported: false, descriptors: [] },
                size: 64,
                ttlMs: o.cache.referrersTtlMs,
              };
            }
            break;
          }
          const where = `referrers of ${formatRepository(repo)}@${digest}`;
          const index = parseManifest(res.body, String(res.headers['content-type'] ?? ''), where);
          if (index.kind !== 'index') {
            throw new DiscoveryError('MEDIA_TYPE_UNSUPPORTED', `${where} is not an image index`);
          }
          descriptors.push(...index.manifests);
          size += res.body.length;
          const next = nextPage(res.headers.link, repo);
          if (next === undefined) break;
          path = next;
        }
        return {
          value: { kind: 'referrers', supported: true, descriptors },
          size,
          ttlMs: o.cache.referrersTtlMs,
        };
      },
    );
  }

  /** A manifest by (mutable) tag, cached for the referrers TTL; undefined when the tag does not exist. */
  function getTagged(
    repo: RepositoryRef,
    tag: string,
    accept: string[],
    signal: AbortSignal,
  ): Promise<Manifest | undefined> {
    return cached<Extract<Cached, { kind: 'tagged' }>>(
      `tagged|${formatRepository(repo)}:${tag}`,
      signal,
      async (s) => {
        const res = await client.request(repo, {
          method: 'GET',
          path: `manifests/${tag}`,
          accept,
          maxBytes: o.limits.referrersBytes,
          signal: s,
        });
        const manifest =
          res.status === 404
            ? undefined
            : parseManifest(
                res.body,
                String(res.headers['content-type'] ?? ''),
                `${formatRepository(repo)}:${tag}`,
              );
        return {
          value: { kind: 'tagged', manifest },
          size: res.body.length + 64,
          ttlMs: o.cache.referrersTtlMs,
        };
      },
    ).then((c) => c.manifest);
  }

  /** Attestation documents from referrer manifests (API or tag schema) of `digest`. */
  async function fromReferrers(
    repo: RepositoryRef,
    digest: string,
    listed: Descriptor[],
    how: string,
    signal: AbortSignal,
  ): Promise<DiscoveredAttestation[]> {
    // A descriptor that names no artifact type, or the empty config's type (as
    // go-containerregistry's registry reports it), is decided on its manifest.
    const wanted = listed
      .filter(
        (d) =>
          d.artifactType === undefined ||
          d.artifactType === OCI_EMPTY ||
          o.artifactTypes.has(d.artifactType),
      )
      .slice(0, o.limits.referrers);
    const perReferrer = await Promise.all(
      wanted.map(async (d) => {
        const manifest = await getManifest(repo, d.digest, signal);
        // Only what names this digest as its subject is attached to it (a
        // referrers-tag index is writable by anyone who can push a tag).
        if (manifest.kind !== 'image' || manifest.subject?.digest !== digest) return [];
        if (!o.artifactTypes.has(artifactTypeOf(manifest))) return [];
        const layers = manifest.layers
          .filter((l) => ATTESTATION_LAYER_TYPES.has(l.mediaType))
          .slice(0, o.limits.layers);
        return Promise.all(
          layers.map(async (layer, i) => ({
            source: `${formatRepository(repo)} ${how} ${d.digest}${layers.length > 1 ? ` layer ${i}` : ''}`,
            bytes: await getBlob(repo, layer, signal),
          })),
        );
      }),
    );
    return perReferrer.flat();
  }

  async function fromCosign(
    repo: RepositoryRef,
    digest: string,
    signal: AbortSignal,
  ): Promise<DiscoveredAttestation[]> {
    const tag = `${digest.replace(':', '-')}.att`;
    const manifest = await getTagged(repo, tag, [OCI_MANIFEST, DOCKER_MANIFEST], signal);
    if (manifest === undefined) return [];
    if (manifest.kind !== 'image') {
      throw new DiscoveryError(
        'MEDIA_TYPE_UNSUPPORTED',
        `${formatRepository(repo)}:${tag} is an index, not cosign's attestation manifest`,
      );
    }
    const layers = manifest.layers
      .filter((l) => l.mediaType === DSSE_ENVELOPE)
      .slice(0, o.limits.layers);
    return Promise.all(
      layers.map(async (layer, i) => {
        const envelope = await getBlob(repo, layer, signal);
        const keyless = layer.annotations[COSIGN_ANNOTATIONS.certificate] !== undefined;
        return {
          source: `${formatRepository(repo)} ${tag} layer ${i}${keyless ? ' (keyless)' : ''}`,
          bytes: cosignAttestationDocument(envelope, layer.annotations),
        };
      }),
    );
  }

  async function discover(
    artifact: ArtifactRef,
    signal: AbortSignal,
  ): Promise<DiscoveredAttestation[]> {
    const repo = parseRepository(artifact.name);
    const hex = artifact.digests.sha256;
    if (hex === undefined || !/^[a-f0-9]{64}$/.test(hex)) {
      throw new DiscoveryError(
        'REFERENCE_INVALID',
        `${artifact.uri ?? artifact.name} has no sha256 digest to look up attestations for (resolve its tag first)`,
      );
    }
    const digest = `sha256:${hex}`;
    const where = `${formatRepository(repo)}@${digest}`;
    return guard(signal, `discovering attestations for ${where}`, async () => {
      const found: DiscoveredAttestation[] = [];
      const looked: string[] = [];
      let apiAnswered = false;
      for (const source of o.sources) {
        if (source === 'referrers-tag' && apiAnswered) continue;
        looked.push(SOURCE_NAMES[source]);
        switch (source) {
          case 'referrers': {
            const listing = await listReferrers(repo, digest, signal);
            apiAnswered = listing.supported;
            if (!listing.supported) looked[looked.length - 1] += ' (not supported)';
            found.push(
              ...(await fromReferrers(repo, digest, listing.descriptors, 'referrer', signal)),
            );
            break;
          }
          case 'referrers-tag': {
            const index = await getTagged(repo, digest.replace(':', '-'), [OCI_INDEX], signal);
            if (index !== undefined && index.kind !== 'index') {
              throw new DiscoveryError(
                'MEDIA_TYPE_UNSUPPORTED',
                `${formatRepository(repo)}:${digest.replace(':', '-')} is not an image index`,
              );
            }
            const listed = index?.kind === 'index' ? index.manifests : [];
            found.push(...(await fromReferrers(repo, digest, listed, 'referrer (tag)', signal)));
            break;
          }
          case 'cosign-att':
            found.push(...(await fromCosign(repo, digest, signal)));
            break;
        }
        if (o.stopAtFirst && found.length > 0) break;
      }
      if (found.length === 0 && o.requireAttestations) {
        throw new DiscoveryError(
          'NO_ATTESTATIONS',
          `no attestations attached to ${digest} in ${formatRepository(repo)} (looked at: ${looked.join(', ')})`,
        );
      }
      return found;
    });
  }

  return {
    name: 'oci',
    discover,
    resolveTag,
    close: () => client.close(),
    get stats(): OciDiscoveryStats {
      return {
        requests: client.stats.requests,
        retries: client.stats.retries,
        tokenFetches: client.stats.tokenFetches,
        cacheHits: counters.hits,
        cacheMisses: counters.misses,
        collapsed: flights.collapsed,
        cacheEntries: cache.size,
        cacheBytes: cache.bytes,
      };
    },
  };
}

function manifestKey(repo: RepositoryRef, digest: string): string {
  return `manifest|${formatRepository(repo)}@${digest}`;
}

/** Runs `work`; once the caller's signal has fired, whatever it throws becomes DISCOVERY_TIMEOUT. */
async function guard<T>(signal: AbortSignal, what: string, work: () => Promise<T>): Promise<T> {
  try {
    signal.throwIfAborted();
    return await work();
  } catch (err) {
    if (!signal.aborted || (err instanceof DiscoveryError && err.code === 'DISCOVERY_TIMEOUT')) {
      throw err;
    }
    const reason = signal.reason as unknown;
    throw new DiscoveryError(
      'DISCOVERY_TIMEOUT',
      `${what} abandoned: ${reason instanceof Error ? reason.message : 'aborted'}`,
      err,
    );
  }
}

function checkDigest(body: Buffer, digest: string, where: string, registry: string): void {
  const [algorithm, hex] = digest.split(':') as [string, string];
  const actual = createHash(algorithm).update(body).digest('hex');
  if (!sameDigest(`${algorithm}:${actual}`, `${algorithm}:${hex}`)) {
    throw new DiscoveryError(
      'DIGEST_MISMATCH',
      `${registry} served content for ${where} whose digest is ${algorithm}:${actual}`,
    );
  }
}

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A `Link: </v2/<name>/referrers/<digest>?n=..&last=..>; rel="next"` under the same repository. */
function nextPage(link: string | string[] | undefined, repo: RepositoryRef): string | undefined {
  const value = Array.isArray(link) ? link.join(',') : link;
  if (value === undefined) return undefined;
  const m = /<([^>]{1,2048})>\s*;\s*rel="?next"?/i.exec(value);
  if (m === null) return undefined;
  let url: URL;
  try {
    url = new URL(m[1]!, 'http://registry.invalid');
  } catch {
    return undefined;
  }
  // Only the path is used, asked of the same registry: a link never leads elsewhere.
  const prefix = `/v2/${repo.repository}/`;
  if (!url.pathname.startsWith(`${prefix}referrers/`)) return undefined;
  return url.pathname.slice(prefix.length) + url.search;
}
