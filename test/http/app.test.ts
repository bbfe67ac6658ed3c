// The HTTP edge through supertest: every endpoint for allow, deny and
// malformed input; real verification of real samples. The policy here allows
// when every attestation verified (the compiled default policy is exercised end to
// end in test/e2e); these tests pin down what the edge does with a decision.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import request from 'supertest';
import { parseConfig, type Config } from '../../src/config/index.ts';
import { localStore } from '../../src/discover/index.ts';
import { createGate, type PolicyEvaluator } from '../../src/gate/index.ts';
import { createApp } from '../../src/http/app.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { OPENAPI } from '../../src/http/openapi.ts';
import { buildTrustMaterial, embeddedNpmKeys, embeddedTrustedRoot } from '../../src/trust/index.ts';
import { createTestPki, inTotoStatement } from '../support/pki.ts';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const fixture = (p: string) => readFileSync(new URL(p, FIXTURES));
const ghBundle = JSON.parse(
  fixture('gh-attestation/sigstore-js-2.1.0-bundle.json').toString('utf8'),
) as Record<string, unknown>;
const tgz = fixture('gh-attestation/sigstore-js-2.1.0.tgz');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface DecisionBody {
  allowed: boolean;
  decisionId: string;
  reasons: string[];
  warnings: string[];
  attestations: { error?: { code: string } }[];
}
interface ReviewBody {
  response: {
    uid: string;
    allowed: boolean;
    status: { code: number; message: string };
    warnings: string[];
    auditAnnotations: Record<string, string>;
  };
}
const dec = (r: { body: unknown }) => r.body as DecisionBody;
const rev = (r: { body: unknown }) => r.body as ReviewBody;

const allowIfVerified: PolicyEvaluator = {
  revision: 'test-policy',
  evaluate(input) {
    const ok = input.attestations.length > 0 && input.attestations.every((a) => a.verified);
    return {
      allow: ok,
      deny: ok ? [] : [`no verified attestation for ${input.artifact.name}`],
      warn: [],
    };
  },
};

interface Setup {
  app: ReturnType<typeof createApp>;
  logged: Record<string, unknown>[];
}

function setup(
  yaml = '',
  extraTrust: unknown[] = [],
  resolveTag?: (ref: string, signal: AbortSignal) => Promise<{ digest: string }>,
): Setup {
  const config: Config = parseConfig(yaml);
  const trust = buildTrustMaterial({
    trustedRoots: [embeddedTrustedRoot(), ...extraTrust],
    npmKeys: [embeddedNpmKeys()],
  });
  const store = config.endpoints.kubernetes.attestationStore;
  const gate = createGate({
    trust: () => trust,
    policy: () => allowIfVerified,
    ...(store === undefined ? {} : { discovery: localStore(store) }),
    cache: { maxEntries: config.cache.maxEntries, ttlSeconds: config.cache.ttlSeconds },
    deadlineMs: config.server.deadlineMs,
    limits: {
      jsonDepth: config.limits.jsonDepth,
      attestationsPerRequest: config.limits.attestationsPerRequest,
      attestationBytes: config.limits.bodyBytes,
    },
  });
  const metrics = createMetrics({
    cache: () => gate.cacheStats,
    policyRevision: () => allowIfVerified.revision,
    policyReloads: () => ({ ok: 0, failed: 0 }),
  });
  const logged: Record<string, unknown>[] = [];
  const app = createApp({
    gate,
    config,
    metrics,
    logDecision: (r) => logged.push(r),
    readiness: () => ({ ready: true, reasons: [] }),
    uploadTokens: () => config.endpoints.upload.tokens,
    ...(resolveTag === undefined ? {} : { resolveTag }),
  });
  return { app, logged };
}

const ajv = new Ajv2020({ strict: false });
ajv.addSchema({ ...OPENAPI, $id: 'openapi' });
function assertSchema(name: string, body: unknown): void {
  const validate = ajv.getSchema(`openapi#/components/schemas/${name}`);
  assert.ok(validate, `schema ${name}`);
  assert.ok(validate(body), `response does not match ${name}: ${ajv.errorsText(validate.errors)}`);
}

const admitBody = (bundle: unknown = ghBundle, digest = sha512(tgz)) => ({
  artifact: { name: 'sigstore-js-2.1.0.tgz', digest: { sha512: digest } },
  attestations: [bundle],
});

describe('HTTP edge', () => {
  describe('health, readiness, metrics, OpenAPI', () => {
    const { app } = setup();
    it('answers /healthz', async () => {
      const r = await request(app).get('/healthz').expect(200);
      assertSchema('Health', r.body);
    });
    it('answers /readyz', async () => {
      const r = await request(app).get('/readyz').expect(200);
      assertSchema('Ready', r.body);
    });
    it('serves /openapi.json describing every route', async () => {
      const r = await request(app).get('/openapi.json').expect(200);
      assert.deepEqual(Object.keys((r.body as { paths: object }).paths).sort(), [
        '/healthz',
        '/metrics',
        '/openapi.json',
        '/readyz',
        '/v1/admit',
        '/v1/k8s/validate',
        '/v1/upload',
      ]);
    });
    it('counts decisions in /metrics', async () => {
      await request(app).post('/v1/admit').type('json').send(admitBody()).expect(200);
      const r = await request(app).get('/metrics').expect(200);
      assert.match(r.text, /provgate_requests_total\{route="admit",decision="allowed"\} 1/);
      assert.match(r.text, /provgate_verification_cache_misses 1/);
      assert.match(r.text, /provgate_policy_info\{revision="test-policy"\} 1/);
    });
    it('answers unknown paths with 404 NOT_FOUND', async () => {
      const r = await request(app).get('/nope').expect(404);
      assertSchema('Error', r.body);
      assert.equal((r.body as { error: { code: string } }).error.code, 'NOT_FOUND');
    });
  });

  describe('POST /v1/admit', () => {
    it('allows a verified artifact and logs the decision', async () => {
      const { app, logged } = setup();
      const r = await request(app).post('/v1/admit').type('json').send(admitBody()).expect(200);
      assertSchema('Decision', r.body);
      assert.equal(dec(r).allowed, true);
      assert.equal(logged.length, 1);
      assert.equal(logged[0]!.decision_id, dec(r).decisionId);
      assert.equal(logged[0]!.path, 'provgate/decision');
      assert.match(String(logged[0]!.input_digest), /^sha256:[0-9a-f]{64}$/);
    });

    it('denies an artifact the attestation does not cover, saying why', async () => {
      const { app } = setup();
      const r = await request(app)
        .post('/v1/admit')
        .type('json')
        .send(admitBody(ghBundle, 'ab'.repeat(64)))
        .expect(200);
      assertSchema('Decision', r.body);
      assert.equal(dec(r).allowed, false);
      assert.equal(dec(r).attestations[0]?.error?.code, 'SUBJECT_DIGEST_MISMATCH');
    });

    it('in warn mode allows and turns the reasons into warnings', async () => {
      const { app, logged } = setup('endpoints:\n  admit:\n    mode: warn\n');
      const r = await request(app)
        .post('/v1/admit')
        .type('json')
        .send(admitBody(ghBundle, 'ab'.repeat(64)))
        .expect(200);
      assert.equal(dec(r).allowed, true);
      assert.deepEqual(dec(r).reasons, []);
      assert.match(
        dec(r).warnings[0] ?? '',
        /^not enforced \(warn mode\): no verified attestation/,
      );
      assert.deepEqual(logged[0]!.result, {
        allowed: false,
        reasons: ['no verified attestation for sigstore-js-2.1.0.tgz'],
        warnings: [],
      });
    });

    it('logs the masked input when configured to', async () => {
      const { app, logged } = setup(
        'decisionLog:\n  input: full\n  mask: [/request/context/secret]\n',
      );
      await request(app)
        .post('/v1/admit')
        .type('json')
        .send({ ...admitBody(), context: { secret: 'hunter2', team: 'a' } })
        .expect(200);
      const input = logged[0]!.input as { request: { context: Record<string, unknown> } };
      assert.deepEqual(input.request.context, { secret: '[masked]', team: 'a' });
    });

    const malformed: [string, () => request.Test, number, string][] = [
      [
        'a body that is not JSON',
        () => request(setup().app).post('/v1/admit').type('json').send('{"artifact": '),
        400,
        'BODY_NOT_JSON',
      ],
      ['an empty body', () => request(setup().app).post('/v1/admit'), 400, 'BODY_NOT_JSON'],
      [
        'nesting deeper than the limit',
        () =>
          request(setup().app)
            .post('/v1/admit')
            .type('json')
            .send('['.repeat(100) + ']'.repeat(100)),
        400,
        'BODY_TOO_DEEP',
      ],
      [
        'a body over the limit',
        () =>
          request(setup('limits:\n  bodyBytes: 2048\n').app)
            .post('/v1/admit')
            .type('json')
            .send(admitBody()),
        413,
        'BODY_TOO_LARGE',
      ],
      [
        'no artifact digest',
        () =>
          request(setup().app)
            .post('/v1/admit')
            .type('json')
            .send({ artifact: { name: 'x', digest: {} }, attestations: [] }),
        400,
        'REQUEST_INVALID',
      ],
      [
        'a malformed digest',
        () =>
          request(setup().app)
            .post('/v1/admit')
            .type('json')
            .send({ artifact: { name: 'x', digest: { sha256: 'abc' } }, attestations: [] }),
        400,
        'REQUEST_INVALID',
      ],
      [
        'attestations that are not an array',
        () =>
          request(setup().app)
            .post('/v1/admit')
            .type('json')
            .send({
              artifact: { name: 'x', digest: { sha256: 'a'.repeat(64) } },
              attestations: {},
            }),
        400,
        'REQUEST_INVALID',
      ],
      [
        'a disabled endpoint',
        () =>
          request(setup('endpoints:\n  admit:\n    enabled: false\n').app)
            .post('/v1/admit')
            .type('json')
            .send(admitBody()),
        404,
        'ENDPOINT_DISABLED',
      ],
    ];
    for (const [what, send, status, code] of malformed) {
      it(`answers ${status} ${code} for ${what}`, async () => {
        const r = await send().expect(status);
        assertSchema('Error', r.body);
        assert.equal((r.body as { error: { code: string } }).error.code, code);
      });
    }

    it('denies when no attestation is sent', async () => {
      const r = await request(setup().app)
        .post('/v1/admit')
        .type('json')
        .send({ artifact: { name: 'x', digest: { sha256: 'a'.repeat(64) } }, attestations: [] })
        .expect(200);
      assert.equal(dec(r).allowed, false);
    });
  });

  describe('POST /v1/upload', () => {
    const npm = (name: string) => ({
      tgz: fixture(`npm-attestations/${name}.tgz`),
      json: fixture(`npm-attestations/${name}.tgz.json`),
    });
    const token = 'upload-token-0123456789abcdef';
    const withToken = `endpoints:\n  upload:\n    tokens: ["${token}"]\n`;

    it('streams a multipart artifact with its provenance and allows it', async () => {
      const { app } = setup(withToken);
      const p = npm('gundam-visor-cli-v1-tag');
      const r = await request(app)
        .post('/v1/upload')
        .set('authorization', `Bearer ${token}`)
        .attach('artifact', p.tgz, 'gundam-visor-1.0.1.tgz')
        .attach('provenance', p.json, 'gundam-visor-1.0.1.tgz.json')
        .field('name', 'pkg:npm/gundam-visor@1.0.1')
        .expect(200);
      assertSchema('Decision', r.body);
      assert.equal(dec(r).allowed, true);
      assert.equal(dec(r).attestations.length, 2);
    });

    it('denies a tampered provenance, with 403 in http status style', async () => {
      const { app } = setup(`${withToken}    statusStyle: http\n`);
      const p = npm('gundam-visor-cli-v1-tag-invalidsigprov');
      const r = await request(app)
        .post('/v1/upload')
        .set('authorization', `Bearer ${token}`)
        .attach('artifact', p.tgz, 'gundam-visor-1.0.1.tgz')
        .attach('provenance', p.json, 'gundam-visor-1.0.1.tgz.json')
        .expect(403);
      assert.equal(dec(r).allowed, false);
      assert.ok(
        dec(r).attestations.some(
          (a: { error?: { code: string } }) => a.error?.code === 'SIGNATURE_INVALID',
        ),
      );
    });

    it('takes the same JSON as /v1/admit', async () => {
      const r = await request(setup(withToken).app)
        .post('/v1/upload')
        .set('authorization', `Bearer ${token}`)
        .type('json')
        .send(admitBody())
        .expect(200);
      assert.equal(dec(r).allowed, true);
    });

    it('refuses a missing or wrong bearer token with 401', async () => {
      const { app } = setup(withToken);
      for (const auth of [undefined, 'Bearer wrong-token-000000000000', `Basic ${token}`]) {
        const req = request(app).post('/v1/upload').type('json').send(admitBody());
        if (auth !== undefined) req.set('authorization', auth);
        const r = await req.expect(401);
        assert.equal((r.body as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
      }
    });

    it('refuses an artifact over the upload limit with 413', async () => {
      const { app } = setup('limits:\n  uploadBytes: 2048\n');
      const p = npm('provenance-npm-test-cli-v1-prega');
      const r = await request(app)
        .post('/v1/upload')
        .attach('artifact', p.tgz, 'x.tgz')
        .attach('provenance', p.json, 'x.tgz.json')
        .expect(413);
      assert.equal((r.body as { error: { code: string } }).error.code, 'UPLOAD_TOO_LARGE');
    });

    it('refuses a multipart request without provenance with 400', async () => {
      const r = await request(setup().app)
        .post('/v1/upload')
        .attach('artifact', Buffer.from('abc'), 'x.tgz')
        .expect(400);
      assert.equal((r.body as { error: { code: string } }).error.code, 'UPLOAD_INVALID');
    });

    it('refuses other content types with 415', async () => {
      const r = await request(setup().app)
        .post('/v1/upload')
        .type('text/plain')
        .send('hello')
        .expect(415);
      assert.equal((r.body as { error: { code: string } }).error.code, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('POST /v1/k8s/validate', () => {
    let storeDir: string;
    let trustedRoot: unknown;
    const imageDigest = sha256(Buffer.from('an image manifest'));
    const image = `ghcr.io/acme/app@sha256:${imageDigest}`;

    before(async () => {
      const pki = await createTestPki();
      trustedRoot = pki.trustedRoot;
      const statement = inTotoStatement(
        [{ name: 'ghcr.io/acme/app', digest: { sha256: imageDigest } }],
        'https://slsa.dev/provenance/v1',
        {
          buildDefinition: { buildType: 'x', externalParameters: {} },
          runDetails: { builder: { id: 'https://example.com/builder' } },
        },
      );
      const bundle = await pki.signDsse(statement, 'application/vnd.in-toto+json');
      storeDir = mkdtempSync(join(tmpdir(), 'provgate-store-'));
      mkdirSync(join(storeDir, `sha256-${imageDigest}`));
      writeFileSync(
        join(storeDir, `sha256-${imageDigest}`, 'provenance.sigstore.json'),
        JSON.stringify(bundle),
      );
    });

    const review = (images: string[], extra: Record<string, unknown> = {}) => ({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        requestKind: { group: '', version: 'v1', kind: 'Pod' },
        requestResource: { group: '', version: 'v1', resource: 'pods' },
        name: 'app',
        namespace: 'team-a',
        operation: 'CREATE',
        userInfo: { username: 'admin', groups: ['system:authenticated'] },
        object: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'app', namespace: 'team-a' },
          spec: { containers: images.map((img, i) => ({ name: `c${i}`, image: img })) },
        },
        oldObject: null,
        dryRun: false,
        options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
        ...extra,
      },
    });

    // The registry's tag resolution (tested against real registries in
    // test/discover): here a table, so the endpoint's handling is what is tested.
    const tags: Record<string, string> = { 'ghcr.io/acme/app:v1': `sha256:${imageDigest}` };
    const resolveTag = (ref: string) =>
      tags[ref] === undefined
        ? Promise.reject(new Error(`ghcr.io answered 404 for ${ref}`))
        : Promise.resolve({ digest: tags[ref] });
    const app = (yaml = '', resolve = false) =>
      setup(
        `endpoints:\n  kubernetes:\n    attestationStore: ${storeDir}\n${yaml}`,
        [trustedRoot],
        resolve ? resolveTag : undefined,
      ).app;

    it('allows a pod whose image is attested, echoing the uid', async () => {
      const r = await request(app())
        .post('/v1/k8s/validate')
        .send(review([image]))
        .expect(200);
      assertSchema('AdmissionReview', r.body);
      assert.equal(rev(r).response.uid, '705ab4f5-6393-11e8-b7cc-42010a800002');
      assert.equal(rev(r).response.allowed, true);
      assert.match(rev(r).response.auditAnnotations['decision-id'] ?? '', /^[0-9a-f-]{36}$/);
    });

    it('denies with 403 naming every denied image and why', async () => {
      const other = `ghcr.io/acme/other@sha256:${'0'.repeat(64)}`;
      const r = await request(app())
        .post('/v1/k8s/validate')
        .send(review([image, other, 'nginx:1.27']))
        .expect(200);
      assert.equal(rev(r).response.allowed, false);
      assert.equal(rev(r).response.status.code, 403);
      assert.match(
        rev(r).response.status.message,
        /nginx:1\.27 \(container c2\) is referenced by tag only/,
      );
      assert.match(
        rev(r).response.status.message,
        /ghcr\.io\/acme\/other@sha256:0{64}: no verified attestation/,
      );
      assert.doesNotMatch(rev(r).response.status.message, /acme\/app/);
    });

    it('allows with warnings in a warn-mode namespace', async () => {
      const r = await request(app('    namespaceModes:\n      team-a: warn\n'))
        .post('/v1/k8s/validate')
        .send(review(['nginx:1.27']))
        .expect(200);
      assert.equal(rev(r).response.allowed, true);
      assert.match(rev(r).response.warnings[0] ?? '', /^not enforced \(warn mode\): nginx:1\.27/);
    });

    it('does not check exempt namespaces or other operations', async () => {
      const exempt = await request(app())
        .post('/v1/k8s/validate')
        .send(review(['nginx'], { namespace: 'kube-system' }))
        .expect(200);
      assert.equal(rev(exempt).response.allowed, true);
      const del = await request(app())
        .post('/v1/k8s/validate')
        .send(review(['nginx'], { operation: 'DELETE' }))
        .expect(200);
      assert.equal(rev(del).response.allowed, true);
    });

    it('resolves a tag through registry discovery and checks the digest it names', async () => {
      const r = await request(app('', true))
        .post('/v1/k8s/validate')
        .send(review(['ghcr.io/acme/app:v1']))
        .expect(200);
      assert.equal(rev(r).response.allowed, true);
      const unknown = await request(app('', true))
        .post('/v1/k8s/validate')
        .send(review(['ghcr.io/acme/app:v2']))
        .expect(200);
      assert.equal(rev(unknown).response.allowed, false);
      assert.match(
        rev(unknown).response.status.message,
        /ghcr\.io\/acme\/app:v2 \(container c0\): cannot resolve the tag to a digest: ghcr\.io answered 404/,
      );
    });

    it('pins tags to digests with a JSONPatch on /v1/k8s/mutate when enabled', async () => {
      const off = await request(app('', true))
        .post('/v1/k8s/mutate')
        .send(review(['ghcr.io/acme/app:v1']))
        .expect(404);
      assert.equal((off.body as { error: { code: string } }).error.code, 'ENDPOINT_DISABLED');
      const r = await request(app('    mutate: true\n', true))
        .post('/v1/k8s/mutate')
        .send(review([image, 'ghcr.io/acme/app:v1']))
        .expect(200);
      const response = (
        r.body as { response: { allowed: boolean; patchType: string; patch: string } }
      ).response;
      assert.equal(response.allowed, true);
      assert.equal(response.patchType, 'JSONPatch');
      assert.deepEqual(JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')), [
        {
          op: 'replace',
          path: '/spec/containers/1/image',
          value: `ghcr.io/acme/app:v1@sha256:${imageDigest}`,
        },
      ]);
    });

    it('answers 400 for a malformed AdmissionReview', async () => {
      const r = await request(app())
        .post('/v1/k8s/validate')
        .send({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} })
        .expect(400);
      assert.equal((r.body as { error: { code: string } }).error.code, 'ADMISSION_REVIEW_INVALID');
    });
  });
});
