// The parts of admission.k8s.io/v1 provgate reads and writes. Field names follow
// the Kubernetes API (k8s.io/api/admission/v1) so that they can be looked up there.

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface GroupVersionKind {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** A JSON object from the review, as decoded; only known paths are ever read from it. */
export type KubernetesObject = Readonly<Record<string, unknown>>;

/** The validated `request` of an AdmissionReview. Empty strings are given as absent. */
export interface AdmissionRequest {
  uid: string;
  operation: Operation;
  namespace?: string;
  name?: string;
  /** The kind of `object` and `oldObject` (after any conversion by the API server). */
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  /** What the client sent, when a `matchPolicy: Equivalent` conversion happened. */
  requestKind?: GroupVersionKind;
  requestResource?: GroupVersionResource;
  requestSubResource?: string;
  dryRun: boolean;
  userInfo?: UserInfo;
  /** The new state: present for CREATE and UPDATE. */
  object?: KubernetesObject;
  /** The existing state: present for UPDATE and DELETE. */
  oldObject?: KubernetesObject;
}

export type ContainerType = 'container' | 'initContainer' | 'ephemeralContainer';

/** One image in a workload and where it was found. */
export interface PodImage {
  /** The image string exactly as written in the object. */
  image: string;
  /** The container's name. */
  container: string;
  type: ContainerType;
  /** Path from the object's root, e.g. `spec.template.spec.containers[0].image`. */
  path: string;
}

/** A parsed Docker/OCI image reference (distribution/reference grammar). */
export interface ImageReference {
  /** Host with optional port, e.g. `docker.io`, `localhost:5000`, `[::1]:5000`. */
  registry: string;
  /** Path within the registry, e.g. `library/nginx`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` or `sha512:<128 hex>`, lower-case. */
  digest?: string;
  /** `registry/repository[:tag][@digest]`; no default tag is added. */
  normalized: string;
  /** True when the reference names content by digest. */
  pinned: boolean;
}

export interface AdmissionResult {
  allowed: boolean;
  /** Why a request was denied; ignored by Kubernetes when allowed. */
  message?: string;
  /** HTTP status Kubernetes returns to the client on denial (400-599); 403 by default. */
  code?: number;
  warnings?: string[];
  /**
   * Keys are name parts only (`decision-id`): kube-apiserver prefixes them with
   * the webhook's name (`<webhook>/decision-id`) and drops any key that then is
   * not a valid qualified name.
   */
  auditAnnotations?: Record<string, string>;
  /** RFC 6902 operations; only a mutating webhook may return them. */
  patch?: object[];
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string };
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
  patchType?: 'JSONPatch';
  /** Base64 of the JSON Patch document. */
  patch?: string;
}

export interface AdmissionReviewResponse {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}
