export type { ArtifactRef, AttestationDiscovery, DiscoveredAttestation } from './discover.types.ts';
export { DiscoveryError } from './error.ts';
export type { DiscoveryErrorCode } from './error.ts';
export { localStore } from './store.ts';
export { firstFound } from './chain.ts';
export { createOciDiscovery, parseReference } from './oci/index.ts';
export type {
  AttestationSource,
  ImageRef,
  OciDiscovery,
  OciDiscoveryOptions,
  OciDiscoveryStats,
  OciLimits,
  RegistrySettings,
  ResolvedTag,
} from './oci/index.ts';
