// Building the AdmissionReview v1 response. Kubernetes accepts or drops parts of
// it by rules of its own (warning sizes, audit annotation key format); they are
// applied here so that what provgate logs is what the API server keeps.

import { AdmissionError } from './error.ts';
import {
  MAX_AUDIT_ANNOTATIONS,
  MAX_AUDIT_ANNOTATION_VALUE_CHARS,
  MAX_IDENTIFIER_LENGTH,
  MAX_STATUS_MESSAGE_BYTES,
  MAX_WARNINGS_TOTAL_CHARS,
  MAX_WARNING_CHARS,
} from './limits.ts';
import type { AdmissionResponse, AdmissionResult, AdmissionReviewResponse } from './k8s.types.ts';

const ELLIPSIS = '…';
// The name part of a qualified name (k8s.io/apimachinery IsQualifiedName), lower-case.
// kube-apiserver stores the key as `<webhook name>/<key>`: a key with its own '/'
// would fail that check and be dropped with only a log line on the API server.
const ANNOTATION_KEY = /^[a-z0-9](?:[-a-z0-9_.]{0,61}[a-z0-9])?$/;
const PATCH_OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);
// kube-apiserver refuses warnings with control characters in them (they travel
// as HTTP Warning headers); those are replaced rather than losing the warning.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * The AdmissionReview to send back for request `uid`. A denial carries
 * `status.code` 403 unless another 4xx/5xx code is given. Warnings, the
 * message and audit annotation values are cut to Kubernetes' limits; a
 * malformed result (bad key, code or patch) throws `ADMISSION_RESPONSE_INVALID`.
 */
export function admissionResponse(uid: string, result: AdmissionResult): AdmissionReviewResponse {
  if (typeof uid !== 'string' || uid === '' || uid.length > MAX_IDENTIFIER_LENGTH) {
    throw responseInvalid('uid must be the non-empty uid of the request');
  }
  const response: AdmissionResponse = { uid, allowed: result.allowed === true };

  // Kubernetes does not read `status` when the request is allowed.
  if (!response.allowed) {
    const code = result.code ?? 403;
    if (!Number.isInteger(code) || code < 400 || code > 599) {
      throw responseInvalid(`status code ${String(code)} is not a 4xx or 5xx code`);
    }
    response.status = { code, message: truncateMessage(result.message ?? 'denied by provgate') };
  }

  const warnings = boundWarnings(result.warnings ?? []);
  if (warnings.length > 0) response.warnings = warnings;

  const annotations = auditAnnotationsOf(result.auditAnnotations ?? {});
  if (Object.keys(annotations).length > 0) response.auditAnnotations = annotations;

  if (result.patch !== undefined) {
    checkPatch(result.patch);
    if (result.patch.length > 0) {
      response.patchType = 'JSONPatch';
      response.patch = Buffer.from(JSON.stringify(result.patch), 'utf8').toString('base64');
    }
  }
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

/** Cuts to MAX_STATUS_MESSAGE_BYTES of UTF-8, on a character boundary, saying so. */
function truncateMessage(message: string): string {
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= MAX_STATUS_MESSAGE_BYTES) return message;
  const note = ` ${ELLIPSIS} (message truncated from ${bytes.length} bytes)`;
  let end = MAX_STATUS_MESSAGE_BYTES - Buffer.byteLength(note, 'utf8');
  // Back up over UTF-8 continuation bytes (10xxxxxx) to the start of a character.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8') + note;
}

function boundWarnings(input: readonly string[]): string[] {
  if (!Array.isArray(input)) throw responseInvalid('warnings must be an array of strings');
  const out: string[] = [];
  const seen = new Set<string>();
  // Room for the closing note, so that dropping warnings is itself visible.
  const budget = MAX_WARNINGS_TOTAL_CHARS - 48;
  let total = 0;
  let dropped = 0;
  for (const w of input) {
    if (typeof w !== 'string') throw responseInvalid('warnings must be an array of strings');
    const text = truncateChars(w.replace(CONTROL, ' ').trim(), MAX_WARNING_CHARS);
    if (text === '' || seen.has(text)) continue;
    const size = [...text].length;
    if (total + size > budget) {
      dropped++;
      continue;
    }
    seen.add(text);
    out.push(text);
    total += size;
  }
  if (dropped > 0) out.push(`${dropped} more warning${dropped === 1 ? '' : 's'} omitted`);
  return out;
}

/** At most `max` characters (code points), the last being an ellipsis when cut. */
function truncateChars(text: string, max: number): string {
  // Cheap exit: a string of at most `max` UTF-16 units has at most `max` code points.
  if (text.length <= max) return text;
  const chars = [...text];
  if (chars.length <= max) return text;
  return chars.slice(0, max - 1).join('') + ELLIPSIS;
}

function auditAnnotationsOf(input: Readonly<Record<string, string>>): Record<string, string> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw responseInvalid('auditAnnotations must be an object');
  }
  const entries = Object.entries(input);
  if (entries.length > MAX_AUDIT_ANNOTATIONS) {
    throw responseInvalid(`at most ${MAX_AUDIT_ANNOTATIONS} audit annotations may be set`);
  }
  const out: [string, string][] = [];
  for (const [key, value] of entries) {
    if (!ANNOTATION_KEY.test(key)) {
      throw responseInvalid(
        `audit annotation key ${JSON.stringify(key.slice(0, 80))} must be a lower-case name of at most 63 characters without "/" (kube-apiserver prefixes it with the webhook name)`,
      );
    }
    if (typeof value !== 'string') {
      throw responseInvalid(`audit annotation ${key} must have a string value`);
    }
    out.push([key, truncateChars(value, MAX_AUDIT_ANNOTATION_VALUE_CHARS)]);
  }
  return Object.fromEntries(out);
}

function checkPatch(patch: readonly object[]): void {
  if (!Array.isArray(patch))
    throw responseInvalid('patch must be an array of JSON Patch operations');
  patch.forEach((op: unknown, i) => {
    if (typeof op !== 'object' || op === null || Array.isArray(op)) {
      throw responseInvalid(`patch[${i}] must be an object`);
    }
    const { op: name, path } = op as { op?: unknown; path?: unknown };
    if (typeof name !== 'string' || !PATCH_OPS.has(name)) {
      throw responseInvalid(`patch[${i}].op must be one of ${[...PATCH_OPS].join(', ')}`);
    }
    if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) {
      throw responseInvalid(`patch[${i}].path must be a JSON Pointer`);
    }
  });
}

function responseInvalid(message: string): AdmissionError {
  return new AdmissionError('ADMISSION_RESPONSE_INVALID', message);
}
