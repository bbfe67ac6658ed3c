import { BaseError } from '../error.ts';

export type TrustErrorCode = 'TRUST_MATERIAL_INVALID' | 'TRUST_MATERIAL_UNREADABLE';

/** Trust material (trusted root, keys) that cannot be used. Raised at load time, never per request. */
export class TrustError extends BaseError<TrustErrorCode> {}
