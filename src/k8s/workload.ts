// Finding the images a workload would run. Each supported kind keeps its pod
// spec at one known path; nothing else in the object is read.

import { AdmissionError } from './error.ts';
import { type AdmissionLimits, DEFAULT_ADMISSION_LIMITS } from './limits.ts';
import type {
  AdmissionRequest,
  ContainerType,
  GroupVersionKind,
  KubernetesObject,
  PodImage,
} from './k8s.types.ts';
import { type JsonObject, invalid, isObject, optionalArrayAt, own } from './shape.ts';

/** Where each workload kind keeps its pod spec, keyed by `group/version/Kind`. */
const POD_SPEC_PATHS: ReadonlyMap<string, readonly string[]> = new Map([
  ['/v1/Pod', ['spec']],
  ['/v1/ReplicationController', ['spec', 'template', 'spec']],
  ['apps/v1/Deployment', ['spec', 'template', 'spec']],
  ['apps/v1/ReplicaSet', ['spec', 'template', 'spec']],
  ['apps/v1/StatefulSet', ['spec', 'template', 'spec']],
  ['apps/v1/DaemonSet', ['spec', 'template', 'spec']],
  ['batch/v1/Job', ['spec', 'template', 'spec']],
  ['batch/v1/CronJob', ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
]);

const CONTAINER_LISTS: readonly { key: string; type: ContainerType }[] = [
  { key: 'containers', type: 'container' },
  { key: 'initContainers', type: 'initContainer' },
  { key: 'ephemeralContainers', type: 'ephemeralContainer' },
];

/**
 * Every image the request would admit, with where it is. For CREATE and
 * UPDATE this is every image in `object` (the new state): provgate checks all
 * of them by default, not only those that changed (see `changedImages`).
 * DELETE and CONNECT admit no image and give none.
 *
 * Through the `ephemeralcontainers` subresource of a Pod only ephemeral
 * containers can be added, so only those are given.
 */
export function imagesOf(
  req: AdmissionRequest,
  limits: AdmissionLimits = DEFAULT_ADMISSION_LIMITS,
): PodImage[] {
  switch (req.operation) {
    case 'DELETE':
    case 'CONNECT':
      return [];
    case 'CREATE':
    case 'UPDATE':
      break;
  }
  if (req.object === undefined) {
    throw invalid('request.object', `must be an object for ${req.operation}`);
  }
  return imagesIn(req, req.object, 'request.object', limits);
}

/**
 * The images of `imagesOf` that are not in `oldObject` at the same path: for
 * callers that choose to skip images an UPDATE leaves unchanged (for example a
 * label change on a Deployment). Without `oldObject` every image is new.
 */
export function changedImages(
  req: AdmissionRequest,
  limits: AdmissionLimits = DEFAULT_ADMISSION_LIMITS,
): PodImage[] {
  const images = imagesOf(req, limits);
  if (req.oldObject === undefined || images.length === 0) return images;
  const before = new Map<string, string>();
  for (const old of imagesIn(req, req.oldObject, 'request.oldObject', limits)) {
    before.set(old.path, old.image);
  }
  return images.filter((i) => before.get(i.path) !== i.image);
}

function imagesIn(
  req: AdmissionRequest,
  object: KubernetesObject,
  label: string,
  limits: AdmissionLimits,
): PodImage[] {
  const specPath = POD_SPEC_PATHS.get(kindKey(req.kind));
  if (specPath === undefined) {
    throw new AdmissionError(
      'ADMISSION_KIND_UNSUPPORTED',
      `kind ${describeKind(req.kind)} is not a workload provgate reads images from`,
    );
  }
  const types = containerTypesFor(req);
  assertKindMatches(object, req.kind, label);

  let spec: JsonObject = object;
  const walked: string[] = [];
  for (const key of specPath) {
    walked.push(key);
    const next = own(spec, key);
    if (!isObject(next)) throw invalid(`${label}.${walked.join('.')}`, 'must be an object');
    spec = next;
  }
  const prefix = specPath.join('.');

  const lists = CONTAINER_LISTS.map(({ key, type }) => ({
    key,
    type,
    items: optionalArrayAt(spec, key, `${label}.${prefix}.${key}`),
  }));
  // Count before reading any entry, so the work is bounded by the limit.
  const total = lists.reduce((n, l) => n + l.items.length, 0);
  if (total > limits.maxContainers) {
    throw new AdmissionError(
      'ADMISSION_TOO_MANY_CONTAINERS',
      `${label}.${prefix} has ${total} containers, more than the limit of ${limits.maxContainers}`,
    );
  }
  // The API server refuses a pod without containers; a review carrying one is not genuine.
  if (lists[0]?.items.length === 0) {
    throw invalid(`${label}.${prefix}.containers`, 'must be a non-empty array');
  }

  const images: PodImage[] = [];
  for (const { key, type, items } of lists) {
    items.forEach((c, i) => {
      const at = `${prefix}.${key}[${i}]`;
      if (!isObject(c)) throw invalid(`${label}.${at}`, 'must be an object');
      const name = own(c, 'name');
      if (typeof name !== 'string' || name === '') {
        throw invalid(`${label}.${at}.name`, 'must be a non-empty string');
      }
      const image = own(c, 'image');
      // An image provgate cannot see is an image it cannot allow.
      if (typeof image !== 'string' || image === '') {
        throw invalid(`${label}.${at}.image`, 'must be a non-empty string');
      }
      if (types.has(type)) images.push({ image, container: name, type, path: `${at}.image` });
    });
  }
  return images;
}

function containerTypesFor(req: AdmissionRequest): ReadonlySet<ContainerType> {
  if (req.subResource === undefined) {
    return new Set(['container', 'initContainer', 'ephemeralContainer']);
  }
  if (
    req.subResource === 'ephemeralcontainers' &&
    req.kind.group === '' &&
    req.kind.kind === 'Pod'
  ) {
    return new Set(['ephemeralContainer']);
  }
  throw new AdmissionError(
    'ADMISSION_SUBRESOURCE_UNSUPPORTED',
    `subresource ${req.resource.resource}/${req.subResource} of kind ${describeKind(req.kind)} is not one provgate reads images from`,
  );
}

// `request.kind` says how to read the object; a review whose object is of
// another kind would have its images read at the wrong path.
function assertKindMatches(object: KubernetesObject, kind: GroupVersionKind, label: string): void {
  const apiVersion = kind.group === '' ? kind.version : `${kind.group}/${kind.version}`;
  if (own(object, 'apiVersion') !== apiVersion) {
    throw invalid(`${label}.apiVersion`, `must be "${apiVersion}" as request.kind says`);
  }
  if (own(object, 'kind') !== kind.kind) {
    throw invalid(`${label}.kind`, `must be "${kind.kind}" as request.kind says`);
  }
}

function kindKey(k: GroupVersionKind): string {
  return `${k.group}/${k.version}/${k.kind}`;
}

function describeKind(k: GroupVersionKind): string {
  return k.group === '' ? `${k.version} ${k.kind}` : `${k.group}/${k.version} ${k.kind}`;
}
