import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admissionResponse, parseAdmissionReview } from '../../src/k8s/index.ts';
import { assertAdmissionError, loadReview } from './load.ts';

const UID = '705ab4f5-6393-11e8-b7cc-42010a800002';

describe('admissionResponse', () => {
  describe('when allowed', () => {
    it('echoes the uid and allows, with nothing else', () => {
      assert.deepEqual(admissionResponse(UID, { allowed: true }), {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: UID, allowed: true },
      });
    });

    it('echoes the uid of a parsed fixture', () => {
      const req = parseAdmissionReview(loadReview('deployment-create.json'));
      assert.equal(admissionResponse(req.uid, { allowed: true }).response.uid, req.uid);
    });

    it('leaves out status, which Kubernetes does not read when allowed', () => {
      const r = admissionResponse(UID, { allowed: true, message: 'fine', code: 200 });
      assert.equal(r.response.status, undefined);
    });

    it('is JSON that round-trips', () => {
      const r = admissionResponse(UID, {
        allowed: true,
        warnings: ['w'],
        auditAnnotations: { 'decision-id': 'd-1' },
      });
      assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
    });
  });

  describe('when denied', () => {
    it('uses status.code 403 by default', () => {
      const r = admissionResponse(UID, { allowed: false, message: 'image nginx is not signed' });
      assert.deepEqual(r.response, {
        uid: UID,
        allowed: false,
        status: { code: 403, message: 'image nginx is not signed' },
      });
    });

    it('keeps another 4xx or 5xx code', () => {
      assert.equal(
        admissionResponse(UID, { allowed: false, code: 400 }).response.status?.code,
        400,
      );
      assert.equal(
        admissionResponse(UID, { allowed: false, code: 503 }).response.status?.code,
        503,
      );
    });

    it('gives a message when none is given', () => {
      assert.ok(admissionResponse(UID, { allowed: false }).response.status?.message);
    });

    for (const code of [200, 302, 399, 600, 403.5, Number.NaN]) {
      it(`throws ADMISSION_RESPONSE_INVALID for status code ${code}`, () => {
        assertAdmissionError(
          () => admissionResponse(UID, { allowed: false, code }),
          'ADMISSION_RESPONSE_INVALID',
        );
      });
    }

    it('denies anything but allowed: true', () => {
      const r = admissionResponse(UID, { allowed: 'yes' as unknown as boolean });
      assert.equal(r.response.allowed, false);
      assert.equal(r.response.status?.code, 403);
    });
  });

  describe('status message truncation', () => {
    it('keeps a message of exactly 4096 bytes', () => {
      const m = 'x'.repeat(4096);
      assert.equal(
        admissionResponse(UID, { allowed: false, message: m }).response.status?.message,
        m,
      );
    });

    it('cuts a longer message to 4096 bytes and says it was cut', () => {
      const m = 'y'.repeat(10_000);
      const out =
        admissionResponse(UID, { allowed: false, message: m }).response.status?.message ?? '';
      assert.ok(Buffer.byteLength(out) <= 4096, `${Buffer.byteLength(out)}`);
      assert.ok(out.startsWith('yyyy'));
      assert.match(out, /truncated from 10000 bytes\)$/);
    });

    it('never splits a multi-byte character', () => {
      for (const ch of ['é', '€', '😀']) {
        for (let pad = 0; pad < 4; pad++) {
          const m = 'a'.repeat(pad) + ch.repeat(3000);
          const out =
            admissionResponse(UID, { allowed: false, message: m }).response.status?.message ?? '';
          assert.ok(Buffer.byteLength(out) <= 4096);
          assert.ok(!out.includes('\uFFFD'), `split ${ch} at pad ${pad}`);
          assert.equal(Buffer.from(out, 'utf8').toString('utf8'), out);
        }
      }
    });
  });

  describe('warnings', () => {
    it('passes short warnings through', () => {
      const r = admissionResponse(UID, { allowed: true, warnings: ['a', 'b'] });
      assert.deepEqual(r.response.warnings, ['a', 'b']);
    });

    it('leaves warnings out when there are none', () => {
      assert.equal(
        admissionResponse(UID, { allowed: true, warnings: [] }).response.warnings,
        undefined,
      );
    });

    it('cuts each warning to 120 characters ending in an ellipsis', () => {
      const [w] = admissionResponse(UID, { allowed: true, warnings: ['w'.repeat(500)] }).response
        .warnings ?? [''];
      assert.equal([...(w ?? '')].length, 120);
      assert.ok(w?.endsWith('…'));
    });

    it('counts characters, not UTF-16 units, and keeps surrogate pairs whole', () => {
      const [w] =
        admissionResponse(UID, { allowed: true, warnings: ['😀'.repeat(200)] }).response.warnings ??
        [];
      assert.equal([...(w ?? '')].length, 120);
      assert.equal(w, '😀'.repeat(119) + '…');
    });

    it('keeps a warning of exactly 120 characters', () => {
      const w = 'z'.repeat(120);
      assert.deepEqual(admissionResponse(UID, { allowed: true, warnings: [w] }).response.warnings, [
        w,
      ]);
    });

    it('keeps at most 4096 characters in all and says how many were left out', () => {
      const many = Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(120, '.'));
      const ws = admissionResponse(UID, { allowed: true, warnings: many }).response.warnings ?? [];
      const total = ws.reduce((n, w) => n + [...w].length, 0);
      assert.ok(total <= 4096, `${total}`);
      assert.ok(ws.length > 30);
      assert.match(ws.at(-1) ?? '', /^\d+ more warnings omitted$/);
      assert.equal(Number(ws.at(-1)?.split(' ')[0]) + ws.length - 1, 100);
    });

    it('replaces control characters, which cannot go in a Warning header', () => {
      const ws = admissionResponse(UID, { allowed: true, warnings: ['a\nb\u0000c\u001bd'] })
        .response.warnings;
      assert.deepEqual(ws, ['a b c d']);
    });

    it('drops empty and repeated warnings', () => {
      const ws = admissionResponse(UID, { allowed: true, warnings: ['x', '', '  ', 'x', 'y'] })
        .response.warnings;
      assert.deepEqual(ws, ['x', 'y']);
    });

    it('throws ADMISSION_RESPONSE_INVALID for a non-string warning', () => {
      assertAdmissionError(
        () => admissionResponse(UID, { allowed: true, warnings: [1 as unknown as string] }),
        'ADMISSION_RESPONSE_INVALID',
      );
    });
  });

  describe('audit annotations', () => {
    it('passes valid keys through', () => {
      const r = admissionResponse(UID, {
        allowed: false,
        auditAnnotations: { 'decision-id': '7f3c', 'policy.revision': 'r12', denied_images: '2' },
      });
      assert.deepEqual(r.response.auditAnnotations, {
        'decision-id': '7f3c',
        'policy.revision': 'r12',
        denied_images: '2',
      });
    });

    it('leaves annotations out when there are none', () => {
      assert.equal(
        admissionResponse(UID, { allowed: true, auditAnnotations: {} }).response.auditAnnotations,
        undefined,
      );
    });

    // kube-apiserver stores `<webhook name>/<key>` and drops it unless that is a qualified name.
    for (const key of [
      'provgate.dev/decision-id',
      'Decision-Id',
      '-decision',
      'decision-',
      '',
      'a'.repeat(64),
      'decision id',
      'décision',
    ]) {
      it(`throws ADMISSION_RESPONSE_INVALID for key ${JSON.stringify(key.slice(0, 20))}`, () => {
        assertAdmissionError(
          () => admissionResponse(UID, { allowed: true, auditAnnotations: { [key]: 'v' } }),
          'ADMISSION_RESPONSE_INVALID',
        );
      });
    }

    it('accepts a key of 63 characters', () => {
      const key = 'a'.repeat(63);
      assert.deepEqual(
        admissionResponse(UID, { allowed: true, auditAnnotations: { [key]: 'v' } }).response
          .auditAnnotations,
        { [key]: 'v' },
      );
    });

    it('cuts long values to 1024 characters', () => {
      const v =
        admissionResponse(UID, { allowed: true, auditAnnotations: { reasons: 'r'.repeat(5000) } })
          .response.auditAnnotations?.reasons ?? '';
      assert.equal([...v].length, 1024);
      assert.ok(v.endsWith('…'));
    });

    it('throws ADMISSION_RESPONSE_INVALID for a non-string value', () => {
      assertAdmissionError(
        () =>
          admissionResponse(UID, {
            allowed: true,
            auditAnnotations: { n: 1 as unknown as string },
          }),
        'ADMISSION_RESPONSE_INVALID',
      );
    });

    it('throws ADMISSION_RESPONSE_INVALID for more than 32 annotations', () => {
      const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
      assertAdmissionError(
        () => admissionResponse(UID, { allowed: true, auditAnnotations: many }),
        'ADMISSION_RESPONSE_INVALID',
      );
    });
  });

  describe('patch', () => {
    it('base64-encodes the JSON Patch and sets patchType', () => {
      const patch = [
        {
          op: 'replace',
          path: '/spec/containers/0/image',
          value: 'nginx@sha256:' + 'a'.repeat(64),
        },
      ];
      const r = admissionResponse(UID, { allowed: true, patch });
      assert.equal(r.response.patchType, 'JSONPatch');
      assert.deepEqual(
        JSON.parse(Buffer.from(r.response.patch ?? '', 'base64').toString('utf8')),
        patch,
      );
    });

    it('matches the Kubernetes documentation example', () => {
      // "Dynamic Admission Control": [{"op": "add", "path": "/spec/replicas", "value": 3}]
      const r = admissionResponse(UID, {
        allowed: true,
        patch: [{ op: 'add', path: '/spec/replicas', value: 3 }],
      });
      assert.equal(
        Buffer.from(r.response.patch ?? '', 'base64').toString(),
        '[{"op":"add","path":"/spec/replicas","value":3}]',
      );
    });

    it('leaves out an empty patch', () => {
      const r = admissionResponse(UID, { allowed: true, patch: [] });
      assert.equal(r.response.patch, undefined);
      assert.equal(r.response.patchType, undefined);
    });

    for (const [what, patch] of [
      ['not an array', { op: 'add' }],
      ['an operation that is not an object', ['add']],
      ['an unknown op', [{ op: 'merge', path: '/a' }]],
      ['a path that is not a JSON Pointer', [{ op: 'remove', path: 'spec' }]],
      ['a missing path', [{ op: 'remove' }]],
    ] as [string, unknown][]) {
      it(`throws ADMISSION_RESPONSE_INVALID for ${what}`, () => {
        assertAdmissionError(
          () => admissionResponse(UID, { allowed: true, patch: patch as object[] }),
          'ADMISSION_RESPONSE_INVALID',
        );
      });
    }
  });

  describe('with a bad uid', () => {
    for (const uid of ['', 'u'.repeat(300), 7 as unknown as string]) {
      it(`throws ADMISSION_RESPONSE_INVALID for ${JSON.stringify(uid).slice(0, 20)}`, () => {
        assertAdmissionError(
          () => admissionResponse(uid, { allowed: true }),
          'ADMISSION_RESPONSE_INVALID',
        );
      });
    }
  });
});
