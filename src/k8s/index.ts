export { parseAdmissionReview } from './review.ts';
export { imagesOf, changedImages } from './workload.ts';
export { parseImageReference } from './reference.ts';
export { admissionResponse } from './response.ts';
export { AdmissionError } from './error.ts';
export type { AdmissionErrorCode } from './error.ts';
export { DEFAULT_ADMISSION_LIMITS } from './limits.ts';
export type { AdmissionLimits } from './limits.ts';
export type {
  AdmissionRequest,
  AdmissionResponse,
  AdmissionResult,
  AdmissionReviewResponse,
  ContainerType,
  GroupVersionKind,
  GroupVersionResource,
  ImageReference,
  KubernetesObject,
  Operation,
  PodImage,
  UserInfo,
} from './k8s.types.ts';
