// End to end, the way a cluster uses provgate (issue 5's "done when"): the real
// `provgate serve` with the committed default policy, go-containerregistry's
// registry (OCI 1.1 referrers API) on loopback, images pushed with crane,
// SLSA provenance attached with `oras attach` as Sigstore bundles signed by the
// test PKI with a GitHub Actions certificate (acme/app's release workflow), and
// AdmissionReviews shaped like kube-apiserver's (test/k8s/fixtures) for a
// Deployment whose images are in that registry, by tag and by digest. Also
// `cosign attest --key` attestations (.att tags), a tag that moves, a registry
// that never answers and one that is stopped.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadReview } from '../k8s/load.ts';
import { createTestPki, IN_TOTO_PAYLOAD_TYPE, type TestPki } from '../support/pki.ts';
import {
  pushImage,
  runTool,
  startCraneRegistry,
  type RunningRegistry,
  cosignAttest as attestWithCosign,
} from '../support/registry.ts';
import {
  ACME_RELEASE,
  BUNDLE_MEDIA_TYPE,
  buildProvenance,
  githubIdentity,
  type GitHubBuild,
} from './support/github.ts';
import {
  metric,
  postJson,
  startProvgate,
  tempDir,
  writeConfig,
  type LogLine,
  type Provgate,
} from './support/serve.ts';
import { servedSchemas, type SchemaCheck } from './support/openapi.ts';

interface ReviewResponse {
  apiVersion: string;
  kind: string;
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; message: string };
    warnings?: string[];
    auditAnnotations?: Record<string, string>;
    patchType?: string;
    patch?: string;
  };
}

const DEADLINE_MS = 4000;

let pki: TestPki;
let registry: RunningRegistry;
let host: string;
let work: ReturnType<typeof tempDir>;
/** Enforce in `shop`, warn in `staging`, mutate on, any source (the default). */
let gate: Provgate;
/** The same with `allowed_sources: [github.com/acme/app]`. */
let pinned: Provgate;
/** A "registry" on loopback that accepts connections and never answers. */
let hung: net.Server;
let hungHost: string;
/** Responses are checked against the server's own /openapi.json. */
let schema: SchemaCheck;
/** Image name -> digest of its `:v1` tag. */
const images: Record<string, string> = {};

/** `oras attach` of a Sigstore bundle to `ref` (a digest reference), as a referrer. */
async function attach(ref: string, bundle: unknown): Promise<void> {
  const file = `bundle-${randomUUID()}.sigstore.json`;
  writeFileSync(join(work.dir, file), JSON.stringify(bundle));
  await runTool(
    'oras',
    [
      'attach',
      '--plain-http',
      '--artifact-type',
      BUNDLE_MEDIA_TYPE,
      ref,
      `${file}:${BUNDLE_MEDIA_TYPE}`,
    ],
    { cwd: work.dir },
  );
}

/** A keyless bundle, as actions/attest-build-provenance makes, for `name@digest`. */
function provenanceBundle(
  signer: TestPki,
  name: string,
  digest: string,
  build: GitHubBuild = ACME_RELEASE,
) {
  const statement = buildProvenance(
    [{ name: `${host}/${name}`, digest: { sha256: digest.slice('sha256:'.length) } }],
    build,
  );
  return signer.signDsse(statement, IN_TOTO_PAYLOAD_TYPE, githubIdentity(build));
}

/** cosign reads and writes nothing outside the work folder; keys without a password. */
const cosignEnv = () => ({ COSIGN_PASSWORD: '', HOME: work.dir, TUF_ROOT: join(work.dir, 'tuf') });

/** `cosign attest --key <key>.key` with the provenance predicate and no transparency log: a `.att` tag. */
async function cosignAttest(ref: string, key: 'trusted' | 'untrusted'): Promise<void> {
  await attestWithCosign(ref, `${key}.key`, { cwd: work.dir, env: cosignEnv() });
}

/** Pushes `name:v1` with `content` and attaches `bundleFor(digest)` (if any); returns the digest. */
async function publish(
  name: string,
  content: string,
  bundleFor?: (digest: string) => Promise<unknown>,
): Promise<string> {
  const digest = await pushImage(`${host}/${name}:v1`, content);
  const bundle = await bundleFor?.(digest);
  if (bundle !== undefined) await attach(`${host}/${name}@${digest}`, bundle);
  images[name] = digest;
  return digest;
}

/**
 * The kube-apiserver's AdmissionReview for creating the Deployment of
 * test/k8s/fixtures/deployment-create.json, with `containers` as its
 * containers' images (the fixture's init container is dropped unless given).
 */
function deployment(
  containers: string[],
  options: { namespace?: string; initContainers?: string[] } = {},
): Record<string, unknown> {
  const review = loadReview('deployment-create.json') as {
    request: {
      uid: string;
      namespace: string;
      object: {
        metadata: { namespace: string; annotations?: unknown };
        spec: { template: { spec: Record<string, unknown> } };
      };
    };
  };
  const namespace = options.namespace ?? 'shop';
  const r = review.request;
  r.uid = randomUUID();
  r.namespace = namespace;
  r.object.metadata.namespace = namespace;
  delete r.object.metadata.annotations;
  const pod = r.object.spec.template.spec;
  const [template] = pod.containers as Record<string, unknown>[];
  pod.containers = containers.map((image, i) => ({
    ...template,
    name: i === 0 ? 'web' : `sidecar-${i}`,
    image,
  }));
  const [init] = pod.initContainers as Record<string, unknown>[];
  if (options.initContainers === undefined) delete pod.initContainers;
  else pod.initContainers = options.initContainers.map((image) => ({ ...init, image }));
  return review;
}

async function validate(
  server: Provgate,
  review: Record<string, unknown>,
): Promise<ReviewResponse['response']> {
  const { status, body } = await postJson<ReviewResponse>(`${server.url}/v1/k8s/validate`, review);
  assert.equal(status, 200, JSON.stringify(body));
  schema('AdmissionReview', body);
  assert.equal(body.kind, 'AdmissionReview');
  assert.equal(body.response.uid, (review.request as { uid: string }).uid);
  return body.response;
}

/** Asserts a 403 denial whose message names `image` and each of `fragments`. */
function assertDenied(
  response: ReviewResponse['response'],
  image: string,
  ...fragments: (string | RegExp)[]
): void {
  assert.equal(response.allowed, false, JSON.stringify(response));
  assert.equal(response.status?.code, 403);
  const message = response.status?.message ?? '';
  assert.ok(message.includes(image), `the message should name ${image}: ${message}`);
  for (const f of fragments) {
    if (typeof f === 'string') assert.ok(message.includes(f), `"${message}" should say ${f}`);
    else assert.match(message, f);
  }
  assert.equal(response.auditAnnotations?.decision, 'denied');
}

/** The decision log line of the request answered with `response`. */
function decisionLog(server: Provgate, response: ReviewResponse['response']): Promise<LogLine> {
  const id = response.auditAnnotations?.['decision-id'];
  assert.ok(id !== undefined, 'the response carries its decision id');
  return server.waitForLog((l) => l.decision_id === id, 5000);
}

/** The artifact URI (`registry/repository@digest`) the one-image request was decided on. */
async function loggedUri(server: Provgate, response: ReviewResponse['response']): Promise<string> {
  const log = await decisionLog(server, response);
  const artifacts = (log.provgate as { artifacts: { uri: string }[] }).artifacts;
  assert.equal(artifacts.length, 1);
  return artifacts[0]!.uri;
}

before(async () => {
  work = tempDir('k8s');
  const untrustedPki = await createTestPki();
  [pki, registry] = await Promise.all([
    createTestPki(),
    startCraneRegistry(),
    ...['trusted', 'untrusted'].map((name) =>
      runTool('cosign', ['generate-key-pair', '--output-key-prefix', name], {
        cwd: work.dir,
        env: cosignEnv(),
      }),
    ),
  ]);
  host = registry.host;
  const statement = JSON.parse(buildProvenance([]).toString('utf8')) as { predicate: unknown };
  writeFileSync(join(work.dir, 'predicate.json'), JSON.stringify(statement.predicate));

  await Promise.all([
    publish('acme/app', 'app v1', (d) => provenanceBundle(pki, 'acme/app', d)),
    publish('acme/sidecar', 'sidecar v1', (d) => provenanceBundle(pki, 'acme/sidecar', d)),
    publish('acme/missing', 'no attestation'),
    // One signature byte flipped after signing.
    publish('acme/tampered', 'tampered', async (d) => {
      const bundle = await provenanceBundle(pki, 'acme/tampered', d);
      const sig = Buffer.from(bundle.dsseEnvelope!.signatures[0]!.sig, 'base64');
      sig[sig.length - 1]! ^= 1;
      bundle.dsseEnvelope!.signatures[0]!.sig = sig.toString('base64');
      return bundle;
    }),
    // A well-formed bundle from a PKI the gate does not trust.
    publish('acme/untrusted', 'untrusted', (d) =>
      provenanceBundle(untrustedPki, 'acme/untrusted', d),
    ),
    // A valid bundle whose subject is another digest, attached here.
    publish('acme/other', 'other', () =>
      provenanceBundle(
        pki,
        'acme/other',
        `sha256:${createHash('sha256').update('another image').digest('hex')}`,
      ),
    ),
    // Built by someone else's repository: a valid GitHub Actions provenance of evil/app.
    publish('acme/forked', 'forked', (d) =>
      provenanceBundle(pki, 'acme/forked', d, { ...ACME_RELEASE, repository: 'evil/app' }),
    ),
    // cosign attest --key: with the key provgate trusts, and with another.
    publish('acme/cosigned', 'cosigned', async (d) => {
      await cosignAttest(`${host}/acme/cosigned@${d}`, 'trusted');
      return undefined;
    }),
    publish('acme/cosigned-untrusted', 'cosigned untrusted', async (d) => {
      await cosignAttest(`${host}/acme/cosigned-untrusted@${d}`, 'untrusted');
      return undefined;
    }),
    publish('acme/moving', 'moving 1', (d) => provenanceBundle(pki, 'acme/moving', d)),
    // Looked up only once the registry is down.
    publish('acme/late', 'late', (d) => provenanceBundle(pki, 'acme/late', d)),
  ]);

  hung = net.createServer(() => undefined);
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  hungHost = `127.0.0.1:${(hung.address() as net.AddressInfo).port}`;

  const root = join(work.dir, 'trusted_root.json');
  writeFileSync(root, JSON.stringify(pki.trustedRoot));
  const config = {
    server: { deadlineMs: DEADLINE_MS },
    trust: {
      trustedRoots: [root],
      keys: [{ keyId: 'cosign-release', path: join(work.dir, 'trusted.pub') }],
    },
    discovery: {
      registry: {
        insecureRegistries: [host, hungHost],
        tagTtlSeconds: 0,
        referrersTtlSeconds: 0,
        requestTimeoutMs: 1000,
        retries: 0,
      },
    },
    endpoints: {
      kubernetes: {
        namespaceModes: { shop: 'enforce', staging: 'warn', sandbox: 'audit' },
        mutate: true,
      },
    },
  };
  [gate, pinned] = await Promise.all([
    startProvgate({ config: writeConfig(work.dir, config) }),
    startProvgate({
      config: writeConfig(
        work.dir,
        { ...config, policy: { params: { allowed_sources: ['github.com/acme/app'] } } },
        'pinned.yaml',
      ),
    }),
  ]);
  schema = await servedSchemas(gate.url);
});

after(async () => {
  await Promise.all([gate?.stop(), pinned?.stop(), registry?.stop()]);
  hung?.close();
  work?.remove();
});

describe('provgate serve: Kubernetes admission with a real registry', () => {
  describe('POST /v1/k8s/validate, a Deployment in an enforce-mode namespace', () => {
    it('allows images whose provenance satisfies the default policy, by tag and by digest', async () => {
      const review = deployment([
        `${host}/acme/app@${images['acme/app']}`,
        `${host}/acme/sidecar:v1`,
      ]);
      const r = await validate(gate, review);
      assert.equal(r.allowed, true, JSON.stringify(r));
      assert.equal(r.status, undefined);
      assert.equal(r.auditAnnotations?.decision, 'allowed');
      // Once, whole: not once per image, cut at Kubernetes' 120 characters.
      assert.deepEqual(r.warnings, [
        'accepting any source repository: no allowed_sources are configured',
      ]);
      // The decision log names both digests, the tag resolved to the one pushed.
      const log = await decisionLog(gate, r);
      const artifacts = (log.provgate as { artifacts: { uri: string }[] }).artifacts;
      assert.deepEqual(artifacts.map((a) => a.uri).sort(), [
        `${host}/acme/app@${images['acme/app']}`,
        `${host}/acme/sidecar@${images['acme/sidecar']}`,
      ]);
    });

    it('allows an init container referenced by tag beside a container by digest', async () => {
      const r = await validate(
        gate,
        deployment([`${host}/acme/app@${images['acme/app']}`], {
          initContainers: [`${host}/acme/sidecar:v1`],
        }),
      );
      assert.equal(r.allowed, true, JSON.stringify(r));
    });

    it('denies an image with no attestation, naming it', async () => {
      const r = await validate(gate, deployment([`${host}/acme/missing:v1`]));
      assertDenied(
        r,
        `${host}/acme/missing`,
        images['acme/missing']!,
        /no (verified SLSA provenance|attestation)/,
      );
    });

    it('denies a tampered attestation with SIGNATURE_INVALID, naming the image', async () => {
      const r = await validate(
        gate,
        deployment([`${host}/acme/tampered@${images['acme/tampered']}`]),
      );
      assertDenied(r, `${host}/acme/tampered`, 'SIGNATURE_INVALID');
    });

    it('denies an attestation signed by an untrusted PKI with UNTRUSTED_CA', async () => {
      const r = await validate(gate, deployment([`${host}/acme/untrusted:v1`]));
      assertDenied(r, `${host}/acme/untrusted`, 'UNTRUSTED_CA');
    });

    it('denies an attestation made for another digest with SUBJECT_DIGEST_MISMATCH', async () => {
      const r = await validate(gate, deployment([`${host}/acme/other:v1`]));
      assertDenied(r, `${host}/acme/other`, 'SUBJECT_DIGEST_MISMATCH');
    });

    it('denies a cosign attestation signed by an untrusted key, naming the image', async () => {
      const r = await validate(gate, deployment([`${host}/acme/cosigned-untrusted:v1`]));
      assertDenied(r, `${host}/acme/cosigned-untrusted`, 'failed verification: SIGNATURE_INVALID');
    });

    it('denies a cosign attestation signed by a trusted key: the default policy needs a builder certificate', async () => {
      const r = await validate(gate, deployment([`${host}/acme/cosigned:v1`]));
      assertDenied(r, `${host}/acme/cosigned`, 'signed by key cosign-release, not by a builder');
    });

    it('names only the denied image when the others pass', async () => {
      const r = await validate(
        gate,
        deployment([`${host}/acme/app:v1`, `${host}/acme/missing:v1`]),
      );
      assertDenied(r, `${host}/acme/missing`);
      assert.ok(!r.status!.message.includes(`${host}/acme/app@`), r.status!.message);
    });

    it('allows a build of any repository while allowed_sources is empty (the warning says so)', async () => {
      const r = await validate(gate, deployment([`${host}/acme/forked:v1`]));
      assert.equal(r.allowed, true, JSON.stringify(r));
      assert.ok(r.warnings?.some((w) => w.includes('accepting any source repository')));
    });

    it('resolves a tag again after it moves (tagTtlSeconds 0): the new digest is checked', async () => {
      const ref = `${host}/acme/moving:v1`;
      const first = await validate(gate, deployment([ref]));
      assert.equal(first.allowed, true, JSON.stringify(first));
      assert.equal(await loggedUri(gate, first), `${host}/acme/moving@${images['acme/moving']}`);

      const moved = await publish('acme/moving', 'moving 2', (d) =>
        provenanceBundle(pki, 'acme/moving', d),
      );
      const second = await validate(gate, deployment([ref]));
      assert.equal(second.allowed, true, JSON.stringify(second));
      assert.equal(await loggedUri(gate, second), `${host}/acme/moving@${moved}`);
    });

    it('denies a tag moved to an image without provenance, naming the new digest', async () => {
      const moved = await publish('acme/moving', 'moving 3');
      const r = await validate(gate, deployment([`${host}/acme/moving:v1`]));
      assertDenied(r, `${host}/acme/moving`, moved);
    });

    it('finds an attestation attached after a denial on the next request (referrersTtlSeconds 0)', async () => {
      const moved = images['acme/moving']!;
      await attach(
        `${host}/acme/moving@${moved}`,
        await provenanceBundle(pki, 'acme/moving', moved),
      );
      const r = await validate(gate, deployment([`${host}/acme/moving:v1`]));
      assert.equal(r.allowed, true, JSON.stringify(r));
    });
  });

  describe('the decision log and metrics', () => {
    it('log and count a denial for an image whose tag cannot be resolved, with the others', async () => {
      const r = await validate(gate, deployment([`${host}/acme/app:v1`, `${host}/acme/app:nope`]));
      assertDenied(r, `${host}/acme/app:nope`, /not found/);
      const log = await decisionLog(gate, r);
      const result = log.result as { allowed: boolean; reasons: string[] };
      assert.equal(result.allowed, false, JSON.stringify(log));
      assert.ok(result.reasons.some((x) => x.includes(`${host}/acme/app:nope`)));
      assert.equal((log.provgate as { answered_allowed: boolean }).answered_allowed, false);
    });

    it('log and count a denial when no image could be pinned', async () => {
      const before = metric(
        await (await fetch(`${gate.url}/metrics`)).text(),
        'provgate_requests_total',
        { route: 'kubernetes', decision: 'denied' },
      );
      const r = await validate(gate, deployment([`${host}/acme/app:nope`]));
      assertDenied(r, `${host}/acme/app:nope`);
      const log = await decisionLog(gate, r);
      assert.equal((log.result as { allowed: boolean }).allowed, false);
      const after = metric(
        await (await fetch(`${gate.url}/metrics`)).text(),
        'provgate_requests_total',
        { route: 'kubernetes', decision: 'denied' },
      );
      assert.equal(after, (before ?? 0) + 1);
    });
  });

  describe('other namespaces', () => {
    it('allows with warnings naming the image in a warn-mode namespace', async () => {
      const r = await validate(
        gate,
        deployment([`${host}/acme/missing:v1`], { namespace: 'staging' }),
      );
      assert.equal(r.allowed, true, JSON.stringify(r));
      assert.equal(r.auditAnnotations?.decision, 'denied');
      assert.equal(r.auditAnnotations?.mode, 'warn');
      assert.ok(
        r.warnings?.some(
          (w) => w.startsWith('not enforced (warn mode)') && w.includes(`${host}/acme/missing`),
        ),
        JSON.stringify(r.warnings),
      );
    });

    it('allows without warnings in an audit-mode namespace, logging the denial', async () => {
      const r = await validate(
        gate,
        deployment([`${host}/acme/missing:v1`], { namespace: 'sandbox' }),
      );
      assert.equal(r.allowed, true, JSON.stringify(r));
      assert.equal(r.warnings, undefined);
      assert.equal(r.auditAnnotations?.mode, 'audit');
      const log = await decisionLog(gate, r);
      assert.equal((log.result as { allowed: boolean }).allowed, false);
      assert.equal((log.provgate as { answered_allowed: boolean }).answered_allowed, true);
    });

    it('does not check an exempt namespace (kube-system)', async () => {
      const r = await validate(
        gate,
        deployment([`${host}/acme/missing:v1`], { namespace: 'kube-system' }),
      );
      assert.equal(r.allowed, true);
      assert.equal(r.auditAnnotations?.exempt, 'namespace kube-system');
    });
  });

  describe('policy.params.allowed_sources', () => {
    it('allows the expected source without the any-source warning', async () => {
      const r = await validate(pinned, deployment([`${host}/acme/app:v1`]));
      assert.equal(r.allowed, true, JSON.stringify(r));
      assert.ok(
        !(r.warnings ?? []).some((w) => w.includes('accepting any source repository')),
        JSON.stringify(r.warnings),
      );
      assert.ok(
        !pinned.logs.some(
          (l) => l.event === 'startup.warning' && String(l.message).includes('any source'),
        ),
      );
    });

    it('denies another source, naming the image, its source and the expected sources', async () => {
      const r = await validate(pinned, deployment([`${host}/acme/forked:v1`]));
      assertDenied(r, `${host}/acme/forked`, 'github.com/evil/app', 'github.com/acme/app');
    });
  });

  describe('POST /v1/k8s/mutate', () => {
    it('returns a JSONPatch pinning each tag to its digest, leaving digests alone', async () => {
      const review = deployment(
        [`${host}/acme/app@${images['acme/app']}`, `${host}/acme/sidecar:v1`],
        {
          initContainers: [`${host}/acme/missing:v1`],
        },
      );
      const { status, body } = await postJson<ReviewResponse>(`${gate.url}/v1/k8s/mutate`, review);
      assert.equal(status, 200, JSON.stringify(body));
      schema('AdmissionReview', body);
      assert.equal(body.response.allowed, true);
      assert.equal(body.response.patchType, 'JSONPatch');
      const patch = JSON.parse(Buffer.from(body.response.patch!, 'base64').toString('utf8')) as {
        op: string;
        path: string;
        value: string;
      }[];
      assert.deepEqual(
        patch.sort((a, b) => a.path.localeCompare(b.path)),
        [
          {
            op: 'replace',
            path: '/spec/template/spec/containers/1/image',
            value: `${host}/acme/sidecar:v1@${images['acme/sidecar']}`,
          },
          {
            op: 'replace',
            path: '/spec/template/spec/initContainers/0/image',
            value: `${host}/acme/missing:v1@${images['acme/missing']}`,
          },
        ],
      );
    });
  });

  describe('when the registry does not answer', () => {
    it('denies within the deadline, naming the image and the registry', async () => {
      hung.on('connection', (socket) => socket.on('error', () => undefined));
      for (const image of [
        `${hungHost}/acme/app:v1`,
        `${hungHost}/acme/app@${images['acme/app']}`,
      ]) {
        const started = Date.now();
        const r = await validate(gate, deployment([image]));
        const elapsed = Date.now() - started;
        assertDenied(r, image, hungHost, /did not answer|timed out/);
        assert.ok(elapsed < DEADLINE_MS + 500, `answered in ${elapsed} ms`);
      }
    });
  });

  // Last: stops the registry.
  describe('when the registry is down', () => {
    it('denies within the deadline, naming the image and the unreachable registry', async () => {
      await registry.stop();
      for (const image of [`${host}/acme/late:v1`, `${host}/acme/late@${images['acme/late']}`]) {
        const started = Date.now();
        const r = await validate(gate, deployment([image]));
        const elapsed = Date.now() - started;
        assertDenied(r, `${host}/acme/late`, host, /unreachable|refused/i);
        assert.ok(elapsed < DEADLINE_MS + 1000, `answered in ${elapsed} ms`);
      }
    });
  });
});
