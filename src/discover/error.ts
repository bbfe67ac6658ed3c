import { BaseError } from '../error.ts';

export type DiscoveryErrorCode =
  | 'DISCOVERY_FAILED'
  | 'DISCOVERY_TIMEOUT'
  | 'STORE_UNREADABLE'
  | 'RESPONSE_TOO_LARGE'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_RATE_LIMITED'
  | 'REGISTRY_ERROR'
  | 'REGISTRY_NOT_ALLOWED'
  | 'REGISTRY_AUTH_FAILED'
  | 'MANIFEST_INVALID'
  | 'TAG_NOT_FOUND'
  | 'TOO_MANY_REDIRECTS'
  | 'NO_ATTESTATIONS'
  | 'REFERENCE_INVALID'
  | 'ADDRESS_NOT_ALLOWED'
  | 'MEDIA_TYPE_UNSUPPORTED'
  | 'DIGEST_MISMATCH'
  | 'MANIFEST_NOT_FOUND'
  | 'CONFIG_INVALID';

/** Finding attestations failed: the decision is a denial that names this cause. */
export class DiscoveryError extends BaseError<DiscoveryErrorCode> {}
