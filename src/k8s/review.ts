// Parsing an AdmissionReview (admission.k8s.io/v1) as kube-apiserver sends it.
// Every field is validated on the paths the gate reads and named when wrong;
// `object` and `oldObject` are kept as decoded and read later, on known paths only.

import { type AdmissionLimits, DEFAULT_ADMISSION_LIMITS, MAX_IDENTIFIER_LENGTH } from './limits.ts';
import type {
  AdmissionRequest,
  GroupVersionKind,
  GroupVersionResource,
  KubernetesObject,
  Operation,
  UserInfo,
} from './k8s.types.ts';
import {
  type JsonObject,
  invalid,
  isObject,
  objectAt,
  optionalStringAt,
  own,
  stringAt,
} from './shape.ts';

const API_VERSION = 'admission.k8s.io/v1';
const OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];
const MAX = MAX_IDENTIFIER_LENGTH;

/**
 * Validates an AdmissionReview request body (already JSON-decoded, within the
 * edge's size and depth limits) and returns its request. Throws
 * `ADMISSION_REVIEW_INVALID` naming the first field that is wrong.
 */
export function parseAdmissionReview(
  body: unknown,
  limits: AdmissionLimits = DEFAULT_ADMISSION_LIMITS,
): AdmissionRequest {
  if (!isObject(body)) throw invalid('AdmissionReview', 'must be a JSON object');
  // v1beta1 is not accepted: the webhook is registered with admissionReviewVersions ["v1"].
  if (own(body, 'apiVersion') !== API_VERSION) {
    throw invalid('apiVersion', `must be "${API_VERSION}"`);
  }
  if (own(body, 'kind') !== 'AdmissionReview') throw invalid('kind', 'must be "AdmissionReview"');
  const r = objectAt(body, 'request', 'request');

  const uid = stringAt(r, 'uid', 'request.uid', MAX);
  const operation = own(r, 'operation');
  if (!OPERATIONS.includes(operation as Operation)) {
    throw invalid('request.operation', `must be one of ${OPERATIONS.join(', ')}`);
  }
  const op = operation as Operation;

  const req: AdmissionRequest = {
    uid,
    operation: op,
    kind: gvk(objectAt(r, 'kind', 'request.kind'), 'request.kind'),
    resource: gvr(objectAt(r, 'resource', 'request.resource'), 'request.resource'),
    dryRun: dryRunOf(r),
  };
  const namespace = optionalStringAt(r, 'namespace', 'request.namespace', MAX);
  if (namespace !== undefined) req.namespace = namespace;
  const name = optionalStringAt(r, 'name', 'request.name', MAX);
  if (name !== undefined) req.name = name;
  const subResource = optionalStringAt(r, 'subResource', 'request.subResource', MAX);
  if (subResource !== undefined) req.subResource = subResource;
  const requestSubResource = optionalStringAt(
    r,
    'requestSubResource',
    'request.requestSubResource',
    MAX,
  );
  if (requestSubResource !== undefined) req.requestSubResource = requestSubResource;

  const requestKind = own(r, 'requestKind');
  if (requestKind !== undefined && requestKind !== null) {
    if (!isObject(requestKind)) throw invalid('request.requestKind', 'must be an object');
    req.requestKind = gvk(requestKind, 'request.requestKind');
  }
  const requestResource = own(r, 'requestResource');
  if (requestResource !== undefined && requestResource !== null) {
    if (!isObject(requestResource)) throw invalid('request.requestResource', 'must be an object');
    req.requestResource = gvr(requestResource, 'request.requestResource');
  }

  const userInfo = own(r, 'userInfo');
  if (userInfo !== undefined && userInfo !== null) {
    if (!isObject(userInfo)) throw invalid('request.userInfo', 'must be an object');
    req.userInfo = userInfoOf(userInfo, limits);
  }

  // RawExtension: kube-apiserver writes `null` for the side that does not exist
  // (oldObject on CREATE, object on DELETE).
  const object = optionalObject(r, 'object', 'request.object');
  if (object !== undefined) req.object = object;
  else if (op === 'CREATE' || op === 'UPDATE') {
    throw invalid('request.object', `must be an object for ${op}`);
  }
  const oldObject = optionalObject(r, 'oldObject', 'request.oldObject');
  if (oldObject !== undefined) req.oldObject = oldObject;

  const options = own(r, 'options');
  if (options !== undefined && options !== null && !isObject(options)) {
    throw invalid('request.options', 'must be an object');
  }
  return req;
}

function gvk(o: JsonObject, path: string): GroupVersionKind {
  return {
    group: groupOf(o, path),
    version: stringAt(o, 'version', `${path}.version`, MAX),
    kind: stringAt(o, 'kind', `${path}.kind`, MAX),
  };
}

function gvr(o: JsonObject, path: string): GroupVersionResource {
  return {
    group: groupOf(o, path),
    version: stringAt(o, 'version', `${path}.version`, MAX),
    resource: stringAt(o, 'resource', `${path}.resource`, MAX),
  };
}

// The core group is '' and Go omits it (omitempty) in some encoders.
function groupOf(o: JsonObject, path: string): string {
  return optionalStringAt(o, 'group', `${path}.group`, MAX) ?? '';
}

function dryRunOf(r: JsonObject): boolean {
  const v = own(r, 'dryRun');
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalid('request.dryRun', 'must be a boolean');
  return v;
}

function optionalObject(r: JsonObject, key: string, path: string): KubernetesObject | undefined {
  const v = own(r, key);
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalid(path, 'must be an object or null');
  return v;
}

function userInfoOf(u: JsonObject, limits: AdmissionLimits): UserInfo {
  const out: UserInfo = {};
  // Usernames of service accounts and OIDC users can be long; bound them loosely.
  const username = optionalStringAt(u, 'username', 'request.userInfo.username', 1024);
  if (username !== undefined) out.username = username;
  const uid = optionalStringAt(u, 'uid', 'request.userInfo.uid', 1024);
  if (uid !== undefined) out.uid = uid;

  const groups = own(u, 'groups');
  if (groups !== undefined && groups !== null) {
    out.groups = stringList(groups, 'request.userInfo.groups', limits.maxUserGroups);
  }
  const extra = own(u, 'extra');
  if (extra !== undefined && extra !== null) {
    if (!isObject(extra)) throw invalid('request.userInfo.extra', 'must be an object');
    const keys = Object.keys(extra);
    if (keys.length > limits.maxUserExtra) {
      throw invalid('request.userInfo.extra', `must have at most ${limits.maxUserExtra} keys`);
    }
    const entries: [string, string[]][] = [];
    for (const k of keys) {
      const path = `request.userInfo.extra[${JSON.stringify(k.slice(0, 64))}]`;
      if (k.length > 1024) throw invalid(path, 'key must be at most 1024 characters');
      entries.push([k, stringList(extra[k], path, limits.maxUserExtra)]);
    }
    // fromEntries defines properties: a `__proto__` key stays data.
    out.extra = Object.fromEntries(entries);
  }
  return out;
}

function stringList(v: unknown, path: string, max: number): string[] {
  if (!Array.isArray(v)) throw invalid(path, 'must be an array of strings');
  if (v.length > max) throw invalid(path, `must have at most ${max} entries`);
  const out: string[] = [];
  for (let i = 0; i < v.length; i++) {
    const s: unknown = v[i];
    if (typeof s !== 'string' || s.length > 1024) {
      throw invalid(`${path}[${i}]`, 'must be a string of at most 1024 characters');
    }
    out.push(s);
  }
  return out;
}
