// Coded errors for the Kubernetes admission module. Callers switch on `code`,
// never on message text; the HTTP edge maps each code to a response in one table.

import { BaseError } from '../error.ts';

export type AdmissionErrorCode =
  // the AdmissionReview is not one kube-apiserver would send
  | 'ADMISSION_REVIEW_INVALID'
  // a well-formed review of something provgate does not know how to read images from
  | 'ADMISSION_KIND_UNSUPPORTED'
  | 'ADMISSION_SUBRESOURCE_UNSUPPORTED'
  // a bound on attacker-controlled input was exceeded
  | 'ADMISSION_TOO_MANY_CONTAINERS'
  // an image string that is not a Docker/OCI reference
  | 'IMAGE_REFERENCE_INVALID'
  // the caller asked for a response Kubernetes would reject or silently drop
  | 'ADMISSION_RESPONSE_INVALID';

/** A Kubernetes admission request that cannot be decided on, or a response that cannot be built. */
export class AdmissionError extends BaseError<AdmissionErrorCode> {}
