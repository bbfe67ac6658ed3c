import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AdmissionError,
  changedImages,
  imagesOf,
  parseAdmissionReview,
  type AdmissionRequest,
  type PodImage,
} from '../../src/k8s/index.ts';
import { REMOVE, assertAdmissionError, edit, loadReview, read, type JsonObject } from './load.ts';

function requestOf(name: string, change?: (review: JsonObject) => void): AdmissionRequest {
  const review = loadReview(name);
  change?.(review);
  return parseAdmissionReview(review);
}

/** `image@path (type, container)` lines: compact and order-preserving. */
function summary(images: PodImage[]): string[] {
  return images.map((i) => `${i.path} ${i.type} ${i.container} ${i.image}`);
}

/** Every image string in the fixture's spec, wherever it is: a check on imagesOf's paths. */
function rawImages(name: string): string[] {
  // The spec only: a running pod's status repeats the images the runtime resolved.
  const text = JSON.stringify(read(loadReview(name), 'request.object.spec'));
  return [...text.matchAll(/"image":"([^"]+)"/g)].map((m) => m[1] ?? '');
}

describe('imagesOf', () => {
  describe('for each workload kind', () => {
    it('reads a Pod: containers and init containers (a native sidecar included)', () => {
      const images = imagesOf(requestOf('pod-create.json'));
      assert.deepEqual(
        images.map(({ path, type, container }) => ({ path, type, container })),
        [
          { path: 'spec.containers[0].image', type: 'container', container: 'checkout' },
          { path: 'spec.containers[1].image', type: 'container', container: 'envoy' },
          { path: 'spec.initContainers[0].image', type: 'initContainer', container: 'migrate' },
          { path: 'spec.initContainers[1].image', type: 'initContainer', container: 'log-shipper' },
        ],
      );
      assert.equal(images[1]?.image, 'docker.io/envoyproxy/envoy:v1.31.2');
      assert.equal(images[3]?.image, 'ghcr.io/acme/log-shipper:2.4.1');
    });

    it('reads a Pod update: all three container types', () => {
      assert.deepEqual(
        summary(imagesOf(requestOf('pod-update-labels.json'))).map((s) =>
          s.split(' ').slice(0, 3).join(' '),
        ),
        [
          'spec.containers[0].image container checkout',
          'spec.containers[1].image container envoy',
          'spec.initContainers[0].image initContainer migrate',
          'spec.initContainers[1].image initContainer log-shipper',
          'spec.ephemeralContainers[0].image ephemeralContainer debugger-k2x9p',
        ],
      );
    });

    const templated: [string, string, string, number][] = [
      ['deployment-create.json', 'Deployment', 'spec.template.spec', 3],
      ['replicaset-create.json', 'ReplicaSet', 'spec.template.spec', 3],
      ['statefulset-create.json', 'StatefulSet', 'spec.template.spec', 2],
      ['daemonset-create.json', 'DaemonSet', 'spec.template.spec', 1],
      ['job-create.json', 'Job', 'spec.template.spec', 1],
      ['replicationcontroller-create.json', 'ReplicationController', 'spec.template.spec', 1],
      ['cronjob-create.json', 'CronJob', 'spec.jobTemplate.spec.template.spec', 2],
    ];
    for (const [file, kind, prefix, count] of templated) {
      it(`reads a ${kind} at ${prefix}`, () => {
        const images = imagesOf(requestOf(file));
        assert.equal(images.length, count);
        for (const i of images) assert.ok(i.path.startsWith(`${prefix}.`), i.path);
        assert.deepEqual(images.map((i) => i.image).sort(), rawImages(file).sort());
      });
    }

    it('gives the paths of a Deployment', () => {
      assert.deepEqual(summary(imagesOf(requestOf('deployment-create.json'))), [
        'spec.template.spec.containers[0].image container web registry.example.com:5000/shop/web@sha256:08e2cfdc7081af0416458d0b76ca065cef7841a893a884009fb00bf6f2745fb1',
        'spec.template.spec.containers[1].image container exporter quay.io/nginx/nginx-prometheus-exporter:1.3.0',
        'spec.template.spec.initContainers[0].image initContainer wait-for-cache busybox:1.36',
      ]);
    });

    it('gives the paths of a CronJob', () => {
      assert.deepEqual(
        imagesOf(requestOf('cronjob-create.json')).map((i) => i.path),
        [
          'spec.jobTemplate.spec.template.spec.containers[0].image',
          'spec.jobTemplate.spec.template.spec.initContainers[0].image',
        ],
      );
    });

    it('finds every image string in every fixture', () => {
      for (const f of [
        'pod-create.json',
        'pod-update-labels.json',
        'pod-create-dryrun.json',
        'deployment-update-image.json',
      ]) {
        assert.deepEqual(
          imagesOf(requestOf(f))
            .map((i) => i.image)
            .sort(),
          rawImages(f).sort(),
          f,
        );
      }
    });
  });

  describe('for the ephemeralcontainers subresource', () => {
    it('gives only the ephemeral containers (the rest of the pod cannot change there)', () => {
      const images = imagesOf(requestOf('pod-ephemeralcontainers.json'));
      assert.deepEqual(summary(images), [
        'spec.ephemeralContainers[0].image ephemeralContainer debugger-k2x9p busybox:1.36',
        'spec.ephemeralContainers[1].image ephemeralContainer debugger-w7fzn nicolaka/netshoot:v0.13',
      ]);
    });
  });

  describe('for operations that admit no image', () => {
    it('gives none for DELETE', () => {
      assert.deepEqual(imagesOf(requestOf('pod-delete.json')), []);
    });

    it('gives none for CONNECT', () => {
      const req = requestOf('pod-create.json', (r) => {
        edit(r, 'request.operation', 'CONNECT');
        edit(r, 'request.subResource', 'exec');
        edit(r, 'request.kind', { group: '', version: 'v1', kind: 'PodExecOptions' });
        edit(r, 'request.object', { kind: 'PodExecOptions', apiVersion: 'v1', command: ['sh'] });
      });
      assert.deepEqual(imagesOf(req), []);
    });

    it('reads a dry-run request like any other', () => {
      assert.equal(
        imagesOf(requestOf('pod-create-dryrun.json'))[0]?.image,
        'registry.k8s.io/pause:3.10',
      );
    });
  });

  describe('when the kind is not a workload', () => {
    it('throws ADMISSION_KIND_UNSUPPORTED naming autoscaling/v1 Scale', () => {
      assertAdmissionError(
        () => imagesOf(requestOf('deployment-scale.json')),
        'ADMISSION_KIND_UNSUPPORTED',
        'autoscaling/v1 Scale',
      );
    });

    it('throws ADMISSION_KIND_UNSUPPORTED for a ConfigMap', () => {
      const req = requestOf('pod-create.json', (r) => {
        edit(r, 'request.kind', { group: '', version: 'v1', kind: 'ConfigMap' });
        edit(r, 'request.object', { kind: 'ConfigMap', apiVersion: 'v1', data: {} });
      });
      assertAdmissionError(() => imagesOf(req), 'ADMISSION_KIND_UNSUPPORTED', 'v1 ConfigMap');
    });

    it('throws ADMISSION_KIND_UNSUPPORTED for a version no longer served (batch/v1beta1 CronJob)', () => {
      const req = requestOf('cronjob-create.json', (r) => {
        edit(r, 'request.kind.version', 'v1beta1');
        edit(r, 'request.object.apiVersion', 'batch/v1beta1');
      });
      assertAdmissionError(
        () => imagesOf(req),
        'ADMISSION_KIND_UNSUPPORTED',
        'batch/v1beta1 CronJob',
      );
    });

    it('throws ADMISSION_KIND_UNSUPPORTED for a Deployment in the core group', () => {
      const req = requestOf('deployment-create.json', (r) => {
        edit(r, 'request.kind.group', '');
        edit(r, 'request.object.apiVersion', 'v1');
      });
      assertAdmissionError(() => imagesOf(req), 'ADMISSION_KIND_UNSUPPORTED', 'v1 Deployment');
    });

    it('throws ADMISSION_SUBRESOURCE_UNSUPPORTED for pods/status', () => {
      const req = requestOf('pod-update-labels.json', (r) =>
        edit(r, 'request.subResource', 'status'),
      );
      assertAdmissionError(() => imagesOf(req), 'ADMISSION_SUBRESOURCE_UNSUPPORTED', 'pods/status');
    });

    it('throws ADMISSION_SUBRESOURCE_UNSUPPORTED for ephemeralcontainers of a Deployment', () => {
      const req = requestOf('deployment-create.json', (r) => {
        edit(r, 'request.subResource', 'ephemeralcontainers');
      });
      assertAdmissionError(() => imagesOf(req), 'ADMISSION_SUBRESOURCE_UNSUPPORTED');
    });
  });

  describe('when the object is malformed', () => {
    const cases: [string, string, (o: JsonObject) => void, string][] = [
      [
        'pod-create.json',
        'kind differs',
        (o) => edit(o, 'kind', 'Deployment'),
        'request.object.kind',
      ],
      [
        'deployment-create.json',
        'apiVersion differs',
        (o) => edit(o, 'apiVersion', 'extensions/v1beta1'),
        'request.object.apiVersion',
      ],
      [
        'pod-create.json',
        'apiVersion missing',
        (o) => edit(o, 'apiVersion', REMOVE),
        'request.object.apiVersion',
      ],
      ['pod-create.json', 'spec missing', (o) => edit(o, 'spec', REMOVE), 'request.object.spec'],
      [
        'deployment-create.json',
        'template missing',
        (o) => edit(o, 'spec.template', REMOVE),
        'request.object.spec.template',
      ],
      [
        'cronjob-create.json',
        'jobTemplate.spec a string',
        (o) => edit(o, 'spec.jobTemplate.spec', 'x'),
        'request.object.spec.jobTemplate.spec',
      ],
      [
        'pod-create.json',
        'containers missing',
        (o) => edit(o, 'spec.containers', REMOVE),
        'request.object.spec.containers',
      ],
      [
        'pod-create.json',
        'containers empty',
        (o) => edit(o, 'spec.containers', []),
        'request.object.spec.containers',
      ],
      [
        'deployment-create.json',
        'containers an object',
        (o) => edit(o, 'spec.template.spec.containers', {}),
        'request.object.spec.template.spec.containers',
      ],
      [
        'pod-create.json',
        'initContainers a string',
        (o) => edit(o, 'spec.initContainers', 'x'),
        'request.object.spec.initContainers',
      ],
      [
        'pod-create.json',
        'a container is null',
        (o) => edit(o, 'spec.containers.1', null),
        'request.object.spec.containers[1]',
      ],
      [
        'pod-create.json',
        'an image is missing',
        (o) => edit(o, 'spec.initContainers.1.image', REMOVE),
        'request.object.spec.initContainers[1].image',
      ],
      [
        'pod-create.json',
        'an image is empty',
        (o) => edit(o, 'spec.containers.0.image', ''),
        'request.object.spec.containers[0].image',
      ],
      [
        'pod-create.json',
        'an image is a number',
        (o) => edit(o, 'spec.containers.0.image', 7),
        'request.object.spec.containers[0].image',
      ],
      [
        'pod-update-labels.json',
        'an ephemeral container has no name',
        (o) => edit(o, 'spec.ephemeralContainers.0.name', REMOVE),
        'request.object.spec.ephemeralContainers[0].name',
      ],
    ];
    for (const [file, what, change, path] of cases) {
      it(`throws ADMISSION_REVIEW_INVALID naming ${path} when ${what}`, () => {
        const req = requestOf(file, (r) => change(read(r, 'request.object') as JsonObject));
        assertAdmissionError(() => imagesOf(req), 'ADMISSION_REVIEW_INVALID', path);
      });
    }

    it('does not read an image from the prototype chain', () => {
      const req = requestOf('pod-create.json');
      const inherited = Object.assign(Object.create({ image: 'evil' }) as object, { name: 'x' });
      edit(req.object, 'spec.containers.0', inherited);
      assertAdmissionError(() => imagesOf(req), 'ADMISSION_REVIEW_INVALID', 'containers[0].image');
    });
  });

  describe('with too many containers', () => {
    const containers = (n: number): object[] =>
      Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'busybox:1.36' }));

    it('accepts 256 containers across the three lists', () => {
      const req = requestOf('pod-update-labels.json', (r) => {
        edit(r, 'request.object.spec.containers', containers(200));
        edit(r, 'request.object.spec.initContainers', containers(55));
      });
      assert.equal(imagesOf(req).length, 256);
    });

    it('throws ADMISSION_TOO_MANY_CONTAINERS at 257', () => {
      const req = requestOf('pod-update-labels.json', (r) => {
        edit(r, 'request.object.spec.containers', containers(200));
        edit(r, 'request.object.spec.initContainers', containers(56));
      });
      assertAdmissionError(() => imagesOf(req), 'ADMISSION_TOO_MANY_CONTAINERS', '257');
    });

    it('counts before reading: a million entries are refused at once', () => {
      const req = requestOf('pod-create.json', (r) => {
        edit(r, 'request.object.spec.containers', new Array(1_000_000).fill(null));
      });
      assertAdmissionError(() => imagesOf(req), 'ADMISSION_TOO_MANY_CONTAINERS');
    });

    it('takes the limit as an argument', () => {
      assertAdmissionError(
        () =>
          imagesOf(requestOf('deployment-create.json'), {
            maxContainers: 2,
            maxUserGroups: 1,
            maxUserExtra: 1,
          }),
        'ADMISSION_TOO_MANY_CONTAINERS',
      );
    });
  });

  describe('property: for any JSON object', () => {
    it('returns or throws AdmissionError only', () => {
      const base = requestOf('deployment-create.json');
      const anyJson = fc.jsonValue({ maxDepth: 4 });
      const containerLike = fc.oneof(
        fc.record(
          { name: fc.oneof(fc.string(), anyJson), image: fc.oneof(fc.string(), anyJson) },
          { requiredKeys: [] },
        ),
        anyJson,
      );
      const spec = fc.record(
        {
          containers: fc.oneof(fc.array(containerLike, { maxLength: 5 }), anyJson),
          initContainers: fc.oneof(fc.array(containerLike, { maxLength: 3 }), anyJson),
          ephemeralContainers: fc.oneof(fc.array(containerLike, { maxLength: 3 }), anyJson),
        },
        { requiredKeys: [] },
      );
      const object = fc.record(
        {
          apiVersion: fc.oneof(fc.constant('apps/v1'), anyJson),
          kind: fc.oneof(fc.constant('Deployment'), anyJson),
          spec: fc.oneof(fc.record({ template: fc.oneof(fc.record({ spec }), anyJson) }), anyJson),
        },
        { requiredKeys: [] },
      );
      fc.assert(
        fc.property(object, object, (o, old) => {
          const req: AdmissionRequest = { ...base, operation: 'UPDATE', object: o, oldObject: old };
          try {
            changedImages(req);
          } catch (err) {
            if (!(err instanceof AdmissionError)) throw err;
          }
        }),
        { numRuns: 1000 },
      );
    });
  });
});

describe('changedImages', () => {
  it('gives only the image kubectl set image changed', () => {
    const req = requestOf('deployment-update-image.json');
    assert.equal(imagesOf(req).length, 3);
    const changed = changedImages(req);
    assert.equal(changed.length, 1);
    assert.equal(changed[0]?.container, 'web');
    assert.equal(changed[0]?.path, 'spec.template.spec.containers[0].image');
    assert.match(changed[0]?.image ?? '', /^registry\.example\.com:5000\/shop\/web@sha256:/);
    assert.notEqual(
      changed[0]?.image,
      req.oldObject && imagesOf({ ...req, object: req.oldObject })[0]?.image,
    );
  });

  it('gives nothing when only labels changed', () => {
    assert.deepEqual(changedImages(requestOf('pod-update-labels.json')), []);
  });

  it('gives only the ephemeral container kubectl debug added', () => {
    assert.deepEqual(summary(changedImages(requestOf('pod-ephemeralcontainers.json'))), [
      'spec.ephemeralContainers[1].image ephemeralContainer debugger-w7fzn nicolaka/netshoot:v0.13',
    ]);
  });

  it('gives every image of a CREATE', () => {
    const req = requestOf('pod-create.json');
    assert.deepEqual(changedImages(req), imagesOf(req));
  });

  it('counts an image moved to another index as changed', () => {
    const req = requestOf('deployment-update-image.json', (r) => {
      const path = 'request.object.spec.template.spec.containers';
      const [a, b] = read(r, path) as unknown[];
      edit(r, path, [b, a]);
    });
    assert.equal(changedImages(req).length, 2);
  });

  it('throws ADMISSION_REVIEW_INVALID naming oldObject when it is malformed', () => {
    const req = requestOf('deployment-update-image.json', (r) => {
      edit(r, 'request.oldObject.spec.template.spec.containers', 'x');
    });
    assertAdmissionError(
      () => changedImages(req),
      'ADMISSION_REVIEW_INVALID',
      'request.oldObject.spec',
    );
  });

  it('gives none for DELETE', () => {
    assert.deepEqual(changedImages(requestOf('pod-delete.json')), []);
  });
});
