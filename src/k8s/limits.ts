// Bounds on attacker-controlled parts of an AdmissionReview and on what the
// response may carry, kept in one place (tuf-js config.ts style).

export interface AdmissionLimits {
  /** Containers of all three types in one pod spec; more is refused, not truncated. */
  maxContainers: number;
  /** `userInfo.groups` entries. */
  maxUserGroups: number;
  /** `userInfo.extra` keys, and values under each key. */
  maxUserExtra: number;
}

export const DEFAULT_ADMISSION_LIMITS: Readonly<AdmissionLimits> = Object.freeze({
  maxContainers: 256,
  maxUserGroups: 256,
  maxUserExtra: 64,
});

/** Identifiers echoed back (uid) and Kubernetes names are far shorter than this. */
export const MAX_IDENTIFIER_LENGTH = 253;

// Response limits. kube-apiserver's AdmissionResponse docs: "Limit warnings to
// 120 characters if possible. Warnings over 256 characters and large numbers of
// warnings may be truncated"; the warning recorder stops after 4096 characters.
export const MAX_WARNING_CHARS = 120;
export const MAX_WARNINGS_TOTAL_CHARS = 4096;
/** Denial messages are shown by kubectl; beyond this they only bloat events and audit logs. */
export const MAX_STATUS_MESSAGE_BYTES = 4096;
export const MAX_AUDIT_ANNOTATIONS = 32;
export const MAX_AUDIT_ANNOTATION_VALUE_CHARS = 1024;
