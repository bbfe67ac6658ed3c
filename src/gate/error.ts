import { BaseError } from '../error.ts';

export type GateErrorCode = 'DEADLINE_EXCEEDED' | 'TOO_MANY_ATTESTATIONS' | 'NO_ARTIFACT';

/** The request could not be decided on its merits; it is denied with this reason. */
export class GateError extends BaseError<GateErrorCode> {}
