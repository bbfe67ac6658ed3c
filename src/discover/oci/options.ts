// Everything registry discovery can be told, and every limit in one place.
import { DiscoveryError } from '../error.ts';
import { hostnameOf, isLoopbackHost } from './address.ts';
import { DEFAULT_ARTIFACT_TYPES, normalizeMediaType } from './media.ts';

export interface OciLimits {
  /** A manifest or index body (the distribution spec asks registries to take at least 4 MiB). */
  manifestBytes: number;
  /** A referrers response or referrers-tag index. */
  referrersBytes: number;
  /** One attestation blob (bundle, DSSE envelope). */
  blobBytes: number;
  /** A token endpoint answer. */
  tokenBytes: number;
  /** Referrer manifests fetched per artifact, after filtering by artifact type. */
  referrers: number;
  /** Attestation layers read per manifest. */
  layers: number;
  /** Referrers API pages followed (`Link: <...>; rel="next"`). */
  pages: number;
  redirects: number;
}

export interface OciTimeouts {
  /** One HTTP exchange, connect to last byte; always also bounded by the caller's signal. */
  requestMs: number;
}

export interface OciRetries {
  /** Retries after a 429 or a 5xx (so at most `max + 1` attempts). */
  max: number;
  /** First backoff when the registry gives no Retry-After; doubles per retry. */
  backoffMs: number;
  /** A Retry-After longer than this is not waited for: the error is reported at once. */
  maxWaitMs: number;
}

export interface OciCacheOptions {
  /** Entries across manifests, referrer lists and blobs. */
  maxEntries: number;
  /** Bytes across manifests, referrer lists and blobs. */
  maxBytes: number;
  /** How long a tag -> digest resolution is reused. */
  tagTtlMs: number;
  /** How long a referrers list (or the lack of one) is reused: new attestations show up after this. */
  referrersTtlMs: number;
}

export interface RegistrySettings {
  /** PEM CA certificates trusted for this registry instead of the system's. */
  ca?: string;
  /** `host[:port]` of a mirror tried first; the registry itself is tried when it fails. */
  mirror?: string;
}

/** Where attestations are looked for, in order. */
export type AttestationSource = 'referrers' | 'referrers-tag' | 'cosign-att';

export interface OciDiscoveryOptions {
  /** Registry hosts (`host[:port]`) that may be contacted. Default: the host the image names. */
  allowedRegistries?: string[];
  /** Loopback registries (`127.0.0.1:5000`, `localhost:5000`) spoken to over plain HTTP. */
  insecureRegistries?: string[];
  /** A Docker `config.json` (a mounted Secret): re-read when it changes. */
  dockerConfigPath?: string;
  /** Per registry host: CA bundle, mirror. */
  registries?: Record<string, RegistrySettings>;
  /** Referrer artifact types to read. Default: Sigstore bundles, DSSE, in-toto. */
  artifactTypes?: string[];
  /** Default: referrers API (or its tag fallback), then cosign's `.att` tag. */
  sources?: AttestationSource[];
  /** Stop at the first source that yields attestations (default true). */
  stopAtFirst?: boolean;
  /** Throw NO_ATTESTATIONS when nothing is found (default true); false returns []. */
  requireAttestations?: boolean;
  limits?: Partial<OciLimits>;
  timeouts?: Partial<OciTimeouts>;
  retries?: Partial<OciRetries>;
  cache?: Partial<OciCacheOptions>;
  /** Injected clock, milliseconds since the epoch. */
  now?: () => number;
  /** Injected sleep (tests); must reject when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** User-Agent sent with every request. */
  userAgent?: string;
}

export const DEFAULT_OCI_LIMITS: OciLimits = {
  manifestBytes: 4 * 1024 * 1024,
  referrersBytes: 4 * 1024 * 1024,
  blobBytes: 8 * 1024 * 1024,
  tokenBytes: 64 * 1024,
  referrers: 32,
  layers: 16,
  pages: 8,
  redirects: 5,
};

export const DEFAULT_OCI_TIMEOUTS: OciTimeouts = { requestMs: 10_000 };
export const DEFAULT_OCI_RETRIES: OciRetries = { max: 2, backoffMs: 200, maxWaitMs: 5_000 };
export const DEFAULT_OCI_CACHE: OciCacheOptions = {
  maxEntries: 4096,
  maxBytes: 64 * 1024 * 1024,
  tagTtlMs: 30_000,
  referrersTtlMs: 30_000,
};
export const DEFAULT_SOURCES: AttestationSource[] = ['referrers', 'referrers-tag', 'cosign-att'];

export interface ResolvedOptions {
  allowed: ReadonlySet<string> | undefined;
  insecure: ReadonlySet<string>;
  dockerConfigPath: string | undefined;
  registries: ReadonlyMap<string, RegistrySettings>;
  artifactTypes: ReadonlySet<string>;
  sources: AttestationSource[];
  stopAtFirst: boolean;
  requireAttestations: boolean;
  limits: OciLimits;
  timeouts: OciTimeouts;
  retries: OciRetries;
  cache: OciCacheOptions;
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  userAgent: string;
}

export function resolveOptions(options: OciDiscoveryOptions): ResolvedOptions {
  const insecure = new Set((options.insecureRegistries ?? []).map((h) => h.toLowerCase()));
  for (const host of insecure) {
    // Plain HTTP gives no server authentication: only where the network path is this machine.
    if (!isLoopbackHost(hostnameOf(host))) {
      throw new DiscoveryError(
        'CONFIG_INVALID',
        `insecure (plain HTTP) registry ${host} is not a loopback host; only loopback registries may be used without TLS`,
      );
    }
  }
  const sources = options.sources ?? DEFAULT_SOURCES;
  if (sources.length === 0) {
    throw new DiscoveryError('CONFIG_INVALID', 'at least one attestation source is needed');
  }
  return {
    allowed:
      options.allowedRegistries === undefined
        ? undefined
        : new Set(options.allowedRegistries.map((h) => h.toLowerCase())),
    insecure,
    dockerConfigPath: options.dockerConfigPath,
    registries: new Map(
      Object.entries(options.registries ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    ),
    artifactTypes: new Set(
      (options.artifactTypes ?? DEFAULT_ARTIFACT_TYPES).map(normalizeMediaType),
    ),
    sources,
    stopAtFirst: options.stopAtFirst ?? true,
    requireAttestations: options.requireAttestations ?? true,
    limits: { ...DEFAULT_OCI_LIMITS, ...options.limits },
    timeouts: { ...DEFAULT_OCI_TIMEOUTS, ...options.timeouts },
    retries: { ...DEFAULT_OCI_RETRIES, ...options.retries },
    cache: { ...DEFAULT_OCI_CACHE, ...options.cache },
    now: options.now ?? Date.now,
    sleep: options.sleep ?? abortableSleep,
    userAgent: options.userAgent ?? 'provgate',
  };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
