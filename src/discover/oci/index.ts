// Attestation discovery from OCI registries (referrers API, referrers tag
// schema, cosign's .att tag), with tag resolution for the admission path.
export { createOciDiscovery } from './discovery.ts';
export type { OciDiscovery, OciDiscoveryStats, ResolvedTag } from './discovery.ts';
export {
  DEFAULT_OCI_CACHE,
  DEFAULT_OCI_LIMITS,
  DEFAULT_OCI_RETRIES,
  DEFAULT_OCI_TIMEOUTS,
  DEFAULT_SOURCES,
} from './options.ts';
export type {
  AttestationSource,
  OciCacheOptions,
  OciDiscoveryOptions,
  OciLimits,
  OciRetries,
  OciTimeouts,
  RegistrySettings,
} from './options.ts';
export { parseReference } from './reference.ts';
export type { ImageRef, RepositoryRef } from './reference.ts';
