// The README's quick start, end to end: `provgate serve` with no configuration
// file (embedded defaults: the Sigstore public-good root, the npm registry
// keys, the committed default policy bundle), the port overridden with
// --port, then the generic admit API with real public samples.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DEFAULT_BUNDLE,
  FIXTURES,
  json,
  metric,
  postJson,
  startProvgate,
  type Provgate,
} from './support/serve.ts';
import { servedSchemas, type SchemaCheck } from './support/openapi.ts';

interface Decision {
  allowed: boolean;
  decisionId: string;
  mode: string;
  reasons: string[];
  warnings: string[];
  attestations: {
    artifact: string;
    source: string;
    verified: boolean;
    predicateType?: string;
    error?: { code: string; message: string };
  }[];
  policyRevision: string;
}

const ANY_SOURCE = 'accepting any source repository';
const SLSA_V1 = 'https://slsa.dev/provenance/v1';
const NPM_PUBLISH = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';

const read = (p: string) => readFileSync(join(FIXTURES, p));
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');

let server: Provgate;
let revision: string;
/** Responses are checked against the server's own /openapi.json. */
let schema: SchemaCheck;

before(async () => {
  server = await startProvgate();
  revision = String(
    (await server.waitForLog((l) => l.event === 'server.listening')).policyRevision,
  );
  schema = await servedSchemas(server.url);
});

after(() => server?.stop());

async function admit(body: unknown): Promise<Decision> {
  const { status, body: decision } = await postJson<Decision>(`${server.url}/v1/admit`, body);
  assert.equal(status, 200, JSON.stringify(decision));
  schema('Decision', decision);
  return decision;
}

describe('provgate serve with no configuration file (quick start)', () => {
  describe('start-up', () => {
    it('listens on loopback over HTTP with the committed default policy bundle', async () => {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const loaded = await server.waitForLog((l) => l.event === 'policy.loaded');
      assert.equal(loaded.path, DEFAULT_BUNDLE);
      assert.match(revision, /^sha256:[0-9a-f]{64}$/);
      assert.equal(loaded.revision, revision);
    });

    it('warns that any source repository is accepted', () => {
      const warnings = server.logs.filter((l) => l.event === 'startup.warning');
      assert.ok(
        warnings.some((l) => l.level === 'warn' && String(l.message).startsWith(ANY_SOURCE)),
        JSON.stringify(warnings),
      );
    });
  });

  describe('GET endpoints', () => {
    it('/healthz answers ok', async () => {
      const res = await fetch(`${server.url}/healthz`);
      assert.equal(res.status, 200);
      const body = await json(res);
      assert.deepEqual(body, { status: 'ok' });
      schema('Health', body);
    });

    it('/readyz is ready', async () => {
      const res = await fetch(`${server.url}/readyz`);
      assert.equal(res.status, 200);
      const body = await json(res);
      assert.deepEqual(body, { ready: true, reasons: [] });
      schema('Ready', body);
    });

    it('/openapi.json describes every endpoint', async () => {
      const res = await fetch(`${server.url}/openapi.json`);
      assert.equal(res.status, 200);
      const doc = await json<{ openapi: string; paths: Record<string, unknown> }>(res);
      assert.match(doc.openapi, /^3\./);
      for (const path of ['/v1/admit', '/v1/upload', '/v1/k8s/validate', '/healthz', '/metrics'])
        assert.ok(path in doc.paths, `${path} is documented`);
    });

    it('/metrics shows the active policy revision', async () => {
      const res = await fetch(`${server.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await res.text();
      assert.equal(metric(text, 'provgate_policy_info', { revision }), 1);
      assert.equal(metric(text, 'provgate_policy_reloads', { outcome: 'failed' }), 0);
    });

    it('answers 404 with a coded error elsewhere', async () => {
      const res = await fetch(`${server.url}/v1/nope`);
      assert.equal(res.status, 404);
      assert.equal((await json<{ error: { code: string } }>(res)).error.code, 'NOT_FOUND');
    });
  });

  describe('POST /v1/admit', () => {
    it('denies the gh sample (sigstore-js 2.1.0): it verifies, but npm packages need the publish attestation', async () => {
      const tgz = read('gh-attestation/sigstore-js-2.1.0.tgz');
      const bundle = JSON.parse(
        read('gh-attestation/sigstore-js-2.1.0-bundle.json').toString('utf8'),
      ) as unknown;
      const d = await admit({
        artifact: { name: 'sigstore-js-2.1.0.tgz', digest: { sha512: sha512(tgz) } },
        attestations: [bundle],
      });
      assert.equal(d.allowed, false);
      assert.equal(d.attestations.length, 1);
      assert.equal(d.attestations[0]!.verified, true);
      assert.equal(d.attestations[0]!.predicateType, SLSA_V1);
      assert.equal(d.reasons.length, 1, JSON.stringify(d.reasons));
      assert.match(d.reasons[0]!, /^no verified npm publish attestation for sha512:/);
      assert.ok(d.reasons[0]!.includes('require_npm_publish_attestation'));
      assert.equal(d.policyRevision, revision);
    });

    const npm = 'npm-attestations/gundam-visor-cli-v1-tag.tgz';
    const forms: [string, (doc: { attestations: { bundle: unknown }[] }) => unknown[]][] = [
      ['the npm attestations document as one attestation', (doc) => [doc]],
      [
        "the document's bundles, one attestation each",
        (doc) => doc.attestations.map((a) => a.bundle),
      ],
    ];
    for (const [form, attestations] of forms) {
      it(`allows an npm package with provenance and publish attestation (${form}), with the any-source warning`, async () => {
        const doc = JSON.parse(read(`${npm}.json`).toString('utf8')) as {
          attestations: { bundle: unknown }[];
        };
        const d = await admit({
          artifact: {
            name: 'gundam-visor',
            version: '1.0.1',
            uri: 'pkg:npm/gundam-visor@1.0.1',
            digest: { sha512: sha512(read(npm)) },
          },
          attestations: attestations(doc),
        });
        assert.deepEqual(d.reasons, []);
        assert.equal(d.allowed, true);
        assert.ok(
          d.warnings.some((w) => w.startsWith(ANY_SOURCE)),
          JSON.stringify(d.warnings),
        );
        assert.deepEqual(
          d.attestations.map((a) => [a.verified, a.predicateType]),
          [
            [true, NPM_PUBLISH],
            [true, SLSA_V1],
          ],
        );
      });
    }

    it('denies the npm package for another digest, with the verification failure', async () => {
      const doc = JSON.parse(read(`${npm}.json`).toString('utf8')) as unknown;
      const d = await admit({
        artifact: { name: 'gundam-visor', digest: { sha512: sha512(Buffer.from('other')) } },
        attestations: [doc],
      });
      assert.equal(d.allowed, false);
      assert.ok(
        d.attestations.every((a) => a.error?.code === 'SUBJECT_DIGEST_MISMATCH'),
        JSON.stringify(d.attestations),
      );
      assert.ok(d.reasons.some((r) => r.includes('SUBJECT_DIGEST_MISMATCH')));
    });

    it('answers malformed input with 400 and a code', async () => {
      const { status, body } = await postJson<{ error: { code: string } }>(
        `${server.url}/v1/admit`,
        { artifact: { name: 'x' }, attestations: 'no' },
      );
      assert.equal(status, 400);
      assert.equal(body.error.code, 'REQUEST_INVALID');
      schema('Error', body);
    });

    it('logs one decision line per decision and counts them in /metrics', async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      assert.ok(
        (metric(text, 'provgate_requests_total', { route: 'admit', decision: 'allowed' }) ?? 0) >=
          2,
      );
      assert.ok(
        (metric(text, 'provgate_requests_total', { route: 'admit', decision: 'denied' }) ?? 0) >= 2,
      );
      const decisions = server.logs.filter((l) => l.decision_id !== undefined);
      assert.ok(decisions.length >= 4);
      for (const l of decisions) {
        assert.equal(l.path, 'provgate/decision');
        assert.deepEqual(l.bundles, { provgate: { revision } });
        assert.match(String(l.input_digest), /^sha256:/);
      }
    });
  });
});
