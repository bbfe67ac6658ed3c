export type { ArtifactRef, AttestationDiscovery, DiscoveredAttestation } from './discover.types.ts';
export { DiscoveryError } from './error.ts';
export type { DiscoveryErrorCode } from './error.ts';
export { localStore } from './store.ts';
