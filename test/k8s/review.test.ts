import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AdmissionError, parseAdmissionReview } from '../../src/k8s/index.ts';
import { REMOVE, assertAdmissionError, edit, loadReview, read, type JsonObject } from './load.ts';

const FIXTURES = [
  'pod-create.json',
  'pod-update-labels.json',
  'pod-ephemeralcontainers.json',
  'pod-create-dryrun.json',
  'pod-delete.json',
  'deployment-create.json',
  'deployment-update-image.json',
  'deployment-scale.json',
  'replicaset-create.json',
  'statefulset-create.json',
  'daemonset-create.json',
  'job-create.json',
  'cronjob-create.json',
  'replicationcontroller-create.json',
];

/** Parses pod-create.json after `change` has edited a copy of it. */
function parseChanged(change: (review: JsonObject) => void): unknown {
  const review = loadReview('pod-create.json');
  change(review);
  return parseAdmissionReview(review);
}

describe('parseAdmissionReview', () => {
  describe('with reviews as kube-apiserver sends them', () => {
    for (const f of FIXTURES) {
      it(`parses ${f}`, () => {
        const raw = loadReview(f);
        const req = parseAdmissionReview(raw);
        assert.equal(req.uid, read(raw, 'request.uid'));
        assert.equal(req.operation, read(raw, 'request.operation'));
        assert.deepEqual(req.kind, read(raw, 'request.kind'));
        assert.deepEqual(req.resource, read(raw, 'request.resource'));
        assert.deepEqual(req.requestKind, read(raw, 'request.requestKind'));
      });
    }

    it('gives every field of a CREATE', () => {
      const raw = loadReview('pod-create.json');
      const req = parseAdmissionReview(raw);
      assert.equal(req.namespace, 'shop');
      assert.equal(req.name, 'checkout');
      assert.deepEqual(req.kind, { group: '', version: 'v1', kind: 'Pod' });
      assert.deepEqual(req.resource, { group: '', version: 'v1', resource: 'pods' });
      assert.equal(req.subResource, undefined);
      assert.equal(req.dryRun, false);
      assert.deepEqual(req.userInfo, read(raw, 'request.userInfo'));
      assert.equal(req.object, read(raw, 'request.object'));
      // oldObject is null on CREATE
      assert.equal(req.oldObject, undefined);
    });

    it('keeps dryRun', () => {
      assert.equal(parseAdmissionReview(loadReview('pod-create-dryrun.json')).dryRun, true);
    });

    it('gives the subresource', () => {
      const req = parseAdmissionReview(loadReview('pod-ephemeralcontainers.json'));
      assert.equal(req.subResource, 'ephemeralcontainers');
      assert.equal(req.requestSubResource, 'ephemeralcontainers');
      assert.ok(req.oldObject);
    });

    it('takes a DELETE without object', () => {
      const req = parseAdmissionReview(loadReview('pod-delete.json'));
      assert.equal(req.operation, 'DELETE');
      assert.equal(req.object, undefined);
      assert.ok(req.oldObject);
    });

    it('takes a minimal review (optional fields absent, core group omitted)', () => {
      const req = parseAdmissionReview({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: 'u',
          kind: { version: 'v1', kind: 'Pod' },
          resource: { version: 'v1', resource: 'pods' },
          operation: 'CONNECT',
        },
      });
      assert.deepEqual(req, {
        uid: 'u',
        operation: 'CONNECT',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        dryRun: false,
      });
    });
  });

  describe('with a malformed review', () => {
    // Each case breaks one field of a good review; the error must name that field.
    const cases: [string, (r: JsonObject) => void, string][] = [
      ['apiVersion missing', (r) => edit(r, 'apiVersion', REMOVE), 'apiVersion'],
      [
        'apiVersion v1beta1',
        (r) => edit(r, 'apiVersion', 'admission.k8s.io/v1beta1'),
        'apiVersion',
      ],
      ['kind wrong', (r) => edit(r, 'kind', 'AdmissionRequest'), 'kind'],
      ['request missing', (r) => edit(r, 'request', REMOVE), 'request'],
      ['request an array', (r) => edit(r, 'request', []), 'request'],
      ['request.uid missing', (r) => edit(r, 'request.uid', REMOVE), 'request.uid'],
      ['request.uid empty', (r) => edit(r, 'request.uid', ''), 'request.uid'],
      ['request.uid a number', (r) => edit(r, 'request.uid', 42), 'request.uid'],
      ['request.uid too long', (r) => edit(r, 'request.uid', 'u'.repeat(300)), 'request.uid'],
      [
        'request.operation missing',
        (r) => edit(r, 'request.operation', REMOVE),
        'request.operation',
      ],
      [
        'request.operation lower-case',
        (r) => edit(r, 'request.operation', 'create'),
        'request.operation',
      ],
      [
        'request.operation PATCH',
        (r) => edit(r, 'request.operation', 'PATCH'),
        'request.operation',
      ],
      ['request.kind missing', (r) => edit(r, 'request.kind', REMOVE), 'request.kind'],
      ['request.kind a string', (r) => edit(r, 'request.kind', 'Pod'), 'request.kind'],
      [
        'request.kind.kind missing',
        (r) => edit(r, 'request.kind.kind', REMOVE),
        'request.kind.kind',
      ],
      [
        'request.kind.version empty',
        (r) => edit(r, 'request.kind.version', ''),
        'request.kind.version',
      ],
      [
        'request.kind.group a number',
        (r) => edit(r, 'request.kind.group', 1),
        'request.kind.group',
      ],
      ['request.resource missing', (r) => edit(r, 'request.resource', REMOVE), 'request.resource'],
      [
        'request.resource.resource missing',
        (r) => edit(r, 'request.resource.resource', REMOVE),
        'request.resource.resource',
      ],
      [
        'request.requestKind a string',
        (r) => edit(r, 'request.requestKind', 'x'),
        'request.requestKind',
      ],
      [
        'request.requestKind.kind missing',
        (r) => edit(r, 'request.requestKind.kind', REMOVE),
        'request.requestKind.kind',
      ],
      [
        'request.requestResource.version a number',
        (r) => edit(r, 'request.requestResource.version', 1),
        'request.requestResource.version',
      ],
      [
        'request.subResource a number',
        (r) => edit(r, 'request.subResource', 1),
        'request.subResource',
      ],
      ['request.namespace an object', (r) => edit(r, 'request.namespace', {}), 'request.namespace'],
      ['request.name an array', (r) => edit(r, 'request.name', ['x']), 'request.name'],
      ['request.dryRun a string', (r) => edit(r, 'request.dryRun', 'true'), 'request.dryRun'],
      [
        'request.userInfo a string',
        (r) => edit(r, 'request.userInfo', 'admin'),
        'request.userInfo',
      ],
      [
        'request.userInfo.username a number',
        (r) => edit(r, 'request.userInfo.username', 0),
        'request.userInfo.username',
      ],
      [
        'request.userInfo.groups a string',
        (r) => edit(r, 'request.userInfo.groups', 'system:masters'),
        'request.userInfo.groups',
      ],
      [
        'request.userInfo.groups with a number',
        (r) => edit(r, 'request.userInfo.groups', ['a', 1]),
        'request.userInfo.groups[1]',
      ],
      [
        'request.userInfo.groups too many',
        (r) =>
          edit(
            r,
            'request.userInfo.groups',
            Array.from({ length: 300 }, (_, i) => `g${i}`),
          ),
        'request.userInfo.groups',
      ],
      [
        'request.userInfo.extra values not a list',
        (r) => edit(r, 'request.userInfo.extra', { k: 'v' }),
        'request.userInfo.extra["k"]',
      ],
      [
        'request.object missing on CREATE',
        (r) => edit(r, 'request.object', REMOVE),
        'request.object',
      ],
      ['request.object null on CREATE', (r) => edit(r, 'request.object', null), 'request.object'],
      ['request.object an array', (r) => edit(r, 'request.object', []), 'request.object'],
      ['request.oldObject a string', (r) => edit(r, 'request.oldObject', 'x'), 'request.oldObject'],
      ['request.options a string', (r) => edit(r, 'request.options', 'x'), 'request.options'],
    ];
    for (const [what, change, path] of cases) {
      it(`throws ADMISSION_REVIEW_INVALID naming ${path} when ${what}`, () => {
        assertAdmissionError(() => parseChanged(change), 'ADMISSION_REVIEW_INVALID', path);
      });
    }

    for (const body of [null, undefined, 'AdmissionReview', 42, [], true]) {
      it(`throws ADMISSION_REVIEW_INVALID for ${JSON.stringify(body) ?? 'undefined'}`, () => {
        assertAdmissionError(() => parseAdmissionReview(body), 'ADMISSION_REVIEW_INVALID');
      });
    }

    it('requires object on UPDATE', () => {
      const review = loadReview('deployment-update-image.json');
      edit(review, 'request.object', null);
      assertAdmissionError(
        () => parseAdmissionReview(review),
        'ADMISSION_REVIEW_INVALID',
        'request.object',
        'UPDATE',
      );
    });

    it('reads only own properties (a uid on the prototype does not count)', () => {
      const request = Object.create({ uid: 'inherited' }) as Record<string, unknown>;
      Object.assign(request, loadReview('pod-create.json').request);
      delete request.uid;
      assertAdmissionError(
        () =>
          parseAdmissionReview({
            apiVersion: 'admission.k8s.io/v1',
            kind: 'AdmissionReview',
            request,
          }),
        'ADMISSION_REVIEW_INVALID',
        'request.uid',
      );
    });

    it('keeps a __proto__ key in userInfo.extra as data', () => {
      const review = loadReview('pod-create.json');
      edit(review, 'request.userInfo.extra', JSON.parse('{"__proto__": ["x"]}'));
      const req = parseAdmissionReview(review);
      assert.deepEqual(Object.keys(req.userInfo?.extra ?? {}), ['__proto__']);
      assert.equal(Object.getPrototypeOf(req.userInfo?.extra), Object.prototype);
    });
  });

  describe('property: for any JSON', () => {
    const onlyCoded = (body: unknown): void => {
      try {
        parseAdmissionReview(body);
      } catch (err) {
        if (!(err instanceof AdmissionError)) throw err;
      }
    };

    it('returns or throws AdmissionError only', () => {
      fc.assert(fc.property(fc.jsonValue(), onlyCoded), { numRuns: 500 });
    });

    it('returns or throws AdmissionError only for review-shaped JSON', () => {
      const anyJson = fc.jsonValue({ maxDepth: 2 });
      const gvkLike = fc.record(
        {
          group: fc.oneof(fc.string(), anyJson),
          version: fc.oneof(fc.string(), anyJson),
          kind: fc.string(),
        },
        { requiredKeys: [] },
      );
      const review = fc.record({
        apiVersion: fc.constantFrom('admission.k8s.io/v1', 'v1'),
        kind: fc.constantFrom('AdmissionReview', 'Pod'),
        request: fc.record(
          {
            uid: fc.oneof(fc.string(), anyJson),
            operation: fc.oneof(fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT'), anyJson),
            kind: fc.oneof(gvkLike, anyJson),
            resource: fc.oneof(gvkLike, anyJson),
            requestKind: fc.oneof(gvkLike, anyJson),
            userInfo: fc.oneof(
              fc.record(
                { username: anyJson, groups: anyJson, extra: fc.dictionary(fc.string(), anyJson) },
                { requiredKeys: [] },
              ),
              anyJson,
            ),
            object: anyJson,
            oldObject: anyJson,
            dryRun: anyJson,
            options: anyJson,
          },
          { requiredKeys: [] },
        ),
      });
      fc.assert(fc.property(review, onlyCoded), { numRuns: 1000 });
    });
  });
});
