// The Helm chart, rendered by the pinned helm for every documented value set:
// lint, the Kubernetes API schemas, provgate's own configuration schema, the
// webhook's rules against the kinds src/k8s reads, the timeout against the
// deadline, the TLS material, and the files the configuration names.
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration';
import type { IMutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import { parseConfig, type Config } from '../../src/config/index.ts';
import { imagesOf, parseAdmissionReview } from '../../src/k8s/index.ts';
import {
  CHART,
  KUBE_VERSION,
  NAMESPACE,
  RELEASE,
  ROOT,
  VALUES_DIR,
  helm,
  installHelm,
  ofKind,
  single,
  template,
  templateArgs,
  validateObject,
  type K8sObject,
} from './render.ts';

const FULLNAME = `${RELEASE}-provgate`;
const SERVICE_HOST = `${FULLNAME}.${NAMESPACE}.svc`;
const TRUSTED_ROOT = join(ROOT, 'src/trust/embedded/public-good.trusted_root.json');
const POLICY_BUNDLE = join(ROOT, 'policies/bundle.tar.gz');

/**
 * What the webhook must be registered for: exactly the workload kinds whose pod
 * specs src/k8s/workload.ts reads, with the kind the API server sends for each
 * and where that kind keeps its pod spec. CREATE and UPDATE only.
 */
const WORKLOADS: Record<string, { kind: string; podSpec: string[]; subResource?: string }> = {
  '/v1/pods': { kind: 'Pod', podSpec: ['spec'] },
  '/v1/pods/ephemeralcontainers': {
    kind: 'Pod',
    podSpec: ['spec'],
    subResource: 'ephemeralcontainers',
  },
  '/v1/replicationcontrollers': {
    kind: 'ReplicationController',
    podSpec: ['spec', 'template', 'spec'],
  },
  'apps/v1/deployments': { kind: 'Deployment', podSpec: ['spec', 'template', 'spec'] },
  'apps/v1/replicasets': { kind: 'ReplicaSet', podSpec: ['spec', 'template', 'spec'] },
  'apps/v1/statefulsets': { kind: 'StatefulSet', podSpec: ['spec', 'template', 'spec'] },
  'apps/v1/daemonsets': { kind: 'DaemonSet', podSpec: ['spec', 'template', 'spec'] },
  'batch/v1/jobs': { kind: 'Job', podSpec: ['spec', 'template', 'spec'] },
  'batch/v1/cronjobs': {
    kind: 'CronJob',
    podSpec: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  },
};

interface ValueSet {
  name: string;
  files: string[];
  /** Extra helm flags; `{bundleB64}` is replaced by a base64 file of the default bundle. */
  extra?: string[];
}

const VALUE_SETS: ValueSet[] = [
  { name: 'defaults', files: ['defaults.yaml'] },
  { name: 'cert-manager', files: ['cert-manager.yaml'] },
  { name: 'warn mode', files: ['warn-mode.yaml'] },
  {
    name: 'custom trust root',
    files: ['custom-trust-root.yaml'],
    // The commands docs/operators.md gives for an air-gapped install.
    extra: [
      '--set-file',
      `trust.trustedRoots.private\\.trusted_root\\.json=${TRUSTED_ROOT}`,
      '--set-file',
      'policy.bundle.base64={bundleB64}',
    ],
  },
  { name: 'upload hook only', files: ['upload-hook-only.yaml'] },
  { name: 'policy bundle from a URL', files: ['policy-url.yaml'] },
];

let helmBin = '';
let scratch = '';
const rendered = new Map<string, K8sObject[]>();

function extraArgs(set: ValueSet): string[] {
  return (set.extra ?? []).map((a) => a.replace('{bundleB64}', join(scratch, 'bundle.b64')));
}

function objectsOf(set: string): K8sObject[] {
  const objects = rendered.get(set);
  assert.ok(objects !== undefined, `value set ${set} was not rendered`);
  return objects;
}

function defined<T>(value: T | undefined | null, what: string): T {
  assert.ok(value !== undefined && value !== null, `${what} is missing`);
  return value;
}

function configOf(objects: K8sObject[]): { text: string; config: Config } {
  const cm = objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name === `${FULLNAME}-config`,
  ) as IConfigMap | undefined;
  const text = defined(cm?.data?.['config.yaml'], 'the config ConfigMap key config.yaml');
  return { text, config: parseConfig(text, 'the rendered config.yaml') };
}

function deploymentOf(objects: K8sObject[]): IDeployment {
  return single<K8sObject & IDeployment>(objects, 'Deployment');
}

function podSpecOf(objects: K8sObject[]) {
  return defined(deploymentOf(objects).spec?.template.spec, 'the Deployment pod spec');
}

function gateContainer(objects: K8sObject[]) {
  return defined(
    podSpecOf(objects).containers.find((c) => c.name === 'provgate'),
    'the provgate container',
  );
}

function validatingWebhook(objects: K8sObject[]) {
  const config = single<K8sObject & IValidatingWebhookConfiguration>(
    objects,
    'ValidatingWebhookConfiguration',
  );
  const webhooks = defined(config.webhooks, 'webhooks');
  assert.equal(webhooks.length, 1);
  return { config, webhook: defined(webhooks[0], 'the webhook') };
}

/** "group/version/resource" for each rule, with its operations and scope. */
function ruleKeys(
  rules: {
    apiGroups?: string[];
    apiVersions?: string[];
    resources?: string[];
    operations?: string[];
    scope?: string;
  }[],
): string[] {
  const keys: string[] = [];
  for (const r of rules) {
    for (const g of r.apiGroups ?? [])
      for (const v of r.apiVersions ?? [])
        for (const res of r.resources ?? [])
          keys.push(
            `${g}/${v}/${res} ${[...(r.operations ?? [])].sort().join(',')} ${r.scope ?? '*'}`,
          );
  }
  return keys.sort();
}

/**
 * The files and directories the provgate container sees, from its mounts: each
 * file with the content the chart renders for it (undefined when it comes from
 * elsewhere: a cert-manager Secret). Items that name a missing key are reported.
 */
function mountedFiles(objects: K8sObject[]): {
  files: Map<string, string | undefined>;
  dirs: string[];
  problems: string[];
} {
  const spec = podSpecOf(objects);
  const files = new Map<string, string | undefined>();
  const dirs: string[] = [];
  const problems: string[] = [];
  for (const mount of gateContainer(objects).volumeMounts ?? []) {
    const volume = defined(
      (spec.volumes ?? []).find((v) => v.name === mount.name),
      `volume ${mount.name}`,
    );
    let source: Map<string, string | undefined> | undefined;
    let items = volume.configMap?.items ?? volume.secret?.items;
    if (volume.configMap !== undefined) {
      const cm = objects.find(
        (o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap?.name,
      ) as IConfigMap | undefined;
      if (cm === undefined) {
        problems.push(`volume ${mount.name}: ConfigMap ${volume.configMap.name} is not rendered`);
        continue;
      }
      source = new Map<string, string | undefined>(Object.entries(cm.data ?? {}));
      for (const [k, v] of Object.entries(cm.binaryData ?? {}))
        source.set(k, Buffer.from(v, 'base64').toString('latin1'));
    } else if (volume.secret !== undefined) {
      const name = volume.secret.secretName;
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === name) as
        ISecret | undefined;
      if (secret !== undefined) {
        source = new Map<string, string | undefined>(
          Object.entries(secret.data ?? {}).map(([k, v]) => [
            k,
            Buffer.from(v, 'base64').toString('utf8'),
          ]),
        );
      } else if (
        objects.some(
          (o) =>
            o.kind === 'Certificate' &&
            (o as { spec?: { secretName?: string } }).spec?.secretName === name,
        )
      ) {
        source = new Map([
          ['tls.crt', undefined],
          ['tls.key', undefined],
          ['ca.crt', undefined],
        ]);
      } else {
        problems.push(
          `volume ${mount.name}: Secret ${name} is neither rendered nor issued by a Certificate`,
        );
        continue;
      }
    } else {
      dirs.push(mount.mountPath);
      continue;
    }
    items ??= [...source.keys()].map((key) => ({ key, path: key }));
    for (const item of items) {
      if (!source.has(item.key))
        problems.push(`volume ${mount.name}: no key ${item.key} in its source`);
      files.set(`${mount.mountPath}/${item.path}`, source.get(item.key));
    }
  }
  return { files, dirs, problems };
}

/** Every file path in provgate's configuration. */
function configuredFiles(config: Config): string[] {
  const paths: (string | undefined)[] = [
    config.server.tls?.certFile,
    config.server.tls?.keyFile,
    config.server.tls?.clientCaFile,
    ...config.trust.trustedRoots,
    ...config.trust.keys.map((k) => k.path),
    ...(config.trust.npmKeys ?? []),
    config.policy.bundle,
    ...config.policy.signingKeys.map((k) => k.path),
    config.endpoints.upload.tokensFile,
    config.discovery.registry.dockerConfig,
    ...Object.values(config.discovery.registry.registries).map((r) => r.caFile),
  ];
  return paths.filter((p): p is string => p !== undefined);
}

/** An AdmissionReview the API server would send for a rule's resource. */
function reviewFor(resource: string, image: string): unknown {
  const w = defined(WORKLOADS[resource], `workload ${resource}`);
  const [group, version, plural] = resource.split('/') as [string, string, string];
  const podSpec =
    w.subResource === undefined
      ? { containers: [{ name: 'app', image }] }
      : {
          containers: [{ name: 'app', image: 'registry.example/app@sha256:' + '1'.repeat(64) }],
          ephemeralContainers: [{ name: 'debug', image }],
        };
  const object: Record<string, unknown> = {
    apiVersion: group === '' ? version : `${group}/${version}`,
    kind: w.kind,
    metadata: { name: 'x', namespace: 'team-a' },
  };
  let at = object;
  w.podSpec.forEach((key, i) => {
    const next = i === w.podSpec.length - 1 ? podSpec : {};
    at[key] = next;
    at = next;
  });
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group, version, kind: w.kind },
      resource: { group, version, resource: plural },
      ...(w.subResource === undefined ? {} : { subResource: w.subResource }),
      name: 'x',
      namespace: 'team-a',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:team-a:deployer' },
      object,
      oldObject: null,
      dryRun: false,
    },
  };
}

interface RunningGate {
  url: URL;
  ca: string;
  process: ChildProcess;
  stop(): Promise<number | null>;
}

/**
 * Starts `provgate serve` on what the chart renders: the mounted files are
 * written under a scratch directory standing in for the pod's filesystem, and
 * config.yaml is used as rendered but for that prefix and a loopback port.
 */
async function serveRendered(set: string): Promise<RunningGate> {
  const objects = objectsOf(set);
  const root = mkdtempSync(join(scratch, 'pod-'));
  const { files, dirs } = mountedFiles(objects);
  for (const [path, content] of files) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), Buffer.from(defined(content, path), 'latin1'));
  }
  for (const dir of dirs) mkdirSync(join(root, dir), { recursive: true });
  const text = configOf(objects).text.replaceAll(
    /(\/etc\/provgate|\/var\/lib\/provgate)\//g,
    `${root}$1/`,
  );
  const configFile = join(root, 'config.yaml');
  writeFileSync(configFile, text);
  const ca = defined(files.get('/etc/provgate/tls/ca.crt') ?? caOf(objects), 'the CA');
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/provgate.js'),
      'serve',
      '--config',
      configFile,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  let output = '';
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`provgate did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const m = /"url":"(https:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (m !== null) {
        clearTimeout(timer);
        resolve(new URL(m[1] as string));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`provgate exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    ca,
    process: child,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function caOf(objects: K8sObject[]): string | undefined {
  const secret = objects.find(
    (o) => o.kind === 'Secret' && o.metadata.name === `${FULLNAME}-tls`,
  ) as ISecret | undefined;
  const ca = secret?.data?.['ca.crt'];
  return ca === undefined ? undefined : Buffer.from(ca, 'base64').toString('utf8');
}

/** An HTTPS call as the API server makes it: the chart's CA, the Service's DNS name. */
function call(
  gate: RunningGate,
  path: string,
  body: Buffer | string,
  headers: Record<string, string>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: gate.url.hostname,
        port: gate.url.port,
        path,
        method: 'POST',
        ca: gate.ca,
        servername: SERVICE_HOST,
        headers: { 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({
              status: res.statusCode ?? 0,
              json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
            });
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function multipart(parts: { name: string; filename: string; content: Buffer }[]): {
  body: Buffer;
  type: string;
} {
  const boundary = 'provgate-chart-test-boundary';
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      p.content,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

before(
  async () => {
    helmBin = await installHelm();
    scratch = mkdtempSync(join(tmpdir(), 'provgate-chart-'));
    writeFileSync(join(scratch, 'bundle.b64'), readFileSync(POLICY_BUNDLE).toString('base64'));
    for (const set of VALUE_SETS)
      rendered.set(set.name, await template(helmBin, set.files, extraArgs(set)));
  },
  // The first run builds helm from the Go module proxy (several minutes on 2 cores).
  { timeout: 30 * 60 * 1000 },
);

after(() => {
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
});

describe('charts/provgate', () => {
  describe('values.schema.json', () => {
    it('carries the config subschemas of src/config/schema.json unchanged', () => {
      const values = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as {
        properties: {
          config: { properties: Record<string, { properties?: Record<string, unknown> }> };
        };
      };
      const provgate = JSON.parse(readFileSync(join(ROOT, 'src/config/schema.json'), 'utf8')) as {
        properties: Record<string, { properties: Record<string, unknown> }>;
      };
      const chart = values.properties.config.properties;
      for (const key of ['limits', 'cache', 'decisionLog', 'logging']) {
        assert.deepEqual(chart[key], provgate.properties[key], `config.${key}`);
      }
      type RegistrySchema = {
        discovery: { properties: { registry: { properties: Record<string, unknown> } } };
      };
      const discovery = (values.properties as unknown as RegistrySchema).discovery.properties
        .registry.properties;
      const provgateDiscovery = (provgate.properties as unknown as RegistrySchema).discovery
        .properties.registry.properties;
      for (const key of [
        'enabled',
        'allowedRegistries',
        'requestTimeoutMs',
        'retries',
        'tagTtlSeconds',
      ]) {
        assert.deepEqual(discovery[key], provgateDiscovery[key], `discovery.registry.${key}`);
      }
      for (const [key, schema] of Object.entries(
        defined(chart.server?.properties, 'config.server'),
      )) {
        assert.deepEqual(
          schema,
          provgate.properties.server?.properties[key],
          `config.server.${key}`,
        );
      }
    });
  });

  for (const set of VALUE_SETS) {
    describe(`with the ${set.name} values`, () => {
      it('passes helm lint --strict', async () => {
        const r = await helm(helmBin, [
          'lint',
          CHART,
          '--strict',
          '--namespace',
          NAMESPACE,
          '--kube-version',
          KUBE_VERSION,
          ...set.files.flatMap((f) => ['--values', join(VALUES_DIR, f)]),
          ...extraArgs(set),
        ]);
        assert.ok(r.ok, `helm lint failed:\n${r.stdout}\n${r.stderr}`);
      });

      it('renders only objects that validate against their Kubernetes API schemas, with no unknown field', () => {
        const objects = objectsOf(set.name);
        assert.ok(objects.length > 0);
        const problems = objects.flatMap((o) =>
          validateObject(o).map((p) => `${o.kind} ${o.metadata.name}: ${p}`),
        );
        assert.deepEqual(problems, []);
      });

      it('renders a configuration that provgate accepts (src/config/schema.json)', () => {
        const { config } = configOf(objectsOf(set.name));
        assert.equal(config.server.host, '0.0.0.0');
        assert.equal(
          config.server.port,
          gateContainer(objectsOf(set.name)).ports?.[0]?.containerPort,
        );
        assert.ok(config.server.tls !== undefined, 'provgate serves HTTPS');
      });

      it('mounts every file the configuration names, from keys that exist', () => {
        const objects = objectsOf(set.name);
        const { config } = configOf(objects);
        const { files, dirs, problems } = mountedFiles(objects);
        assert.deepEqual(problems, []);
        for (const path of configuredFiles(config)) {
          const inDir = dirs.some((d) => path.startsWith(`${d}/`));
          assert.ok(files.has(path) || inDir, `${path} is named in config.yaml but not mounted`);
        }
        const store = config.endpoints.kubernetes.attestationStore;
        if (store !== undefined)
          assert.ok(dirs.includes(store), `attestation store ${store} is not mounted`);
      });

      it('runs hardened: non-root, read-only root, no capabilities, RuntimeDefault seccomp, no API token', () => {
        const objects = objectsOf(set.name);
        const pod = podSpecOf(objects);
        assert.equal(pod.automountServiceAccountToken, false);
        assert.equal(pod.securityContext?.runAsNonRoot, true);
        assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          const sc = defined(c.securityContext, `${c.name} securityContext`);
          assert.equal(sc.runAsNonRoot, true, c.name);
          assert.ok((sc.runAsUser ?? 0) > 0, `${c.name} runs as a non-zero UID`);
          assert.equal(sc.readOnlyRootFilesystem, true, c.name);
          assert.equal(sc.allowPrivilegeEscalation, false, c.name);
          assert.equal(sc.privileged, false, c.name);
          assert.deepEqual(sc.capabilities?.drop, ['ALL'], c.name);
          assert.equal(sc.capabilities?.add, undefined, c.name);
          assert.equal(sc.seccompProfile?.type, 'RuntimeDefault', c.name);
          assert.ok(
            c.resources?.requests?.cpu !== undefined && c.resources.requests.memory !== undefined,
            `${c.name} requests`,
          );
          assert.ok(c.resources?.limits?.memory !== undefined, `${c.name} memory limit`);
        }
        const sa = single<
          K8sObject & {
            automountServiceAccountToken?: boolean;
          }
        >(objects, 'ServiceAccount');
        assert.equal(sa.automountServiceAccountToken, false);
        assert.deepEqual(ofKind(objects, 'Role'), [], 'no API access is granted');
        assert.deepEqual(ofKind(objects, 'ClusterRole'), []);
        assert.deepEqual(ofKind(objects, 'ClusterRoleBinding'), []);
      });

      it('stays available: 2 replicas spread across nodes, a PodDisruptionBudget, health probes', () => {
        const objects = objectsOf(set.name);
        const deployment = deploymentOf(objects);
        assert.equal(deployment.spec?.replicas, 2);
        assert.equal(deployment.spec?.strategy?.rollingUpdate?.maxUnavailable, 0);
        const pdb = single<
          K8sObject & {
            spec: { minAvailable: number; selector: unknown };
          }
        >(objects, 'PodDisruptionBudget');
        assert.equal(pdb.spec.minAvailable, 1);
        assert.deepEqual(pdb.spec.selector, deployment.spec?.selector);
        const spread = podSpecOf(objects).topologySpreadConstraints ?? [];
        assert.ok(
          spread.some((t) => t.topologyKey === 'kubernetes.io/hostname'),
          'spread across nodes',
        );
        const c = gateContainer(objects);
        assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
        assert.equal(c.readinessProbe?.httpGet?.scheme, 'HTTPS');
        assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
        assert.equal(c.livenessProbe?.httpGet?.scheme, 'HTTPS');
        // SIGTERM must come with time for provgate's graceful shutdown.
        const { config } = configOf(objects);
        assert.ok(
          (podSpecOf(objects).terminationGracePeriodSeconds ?? 30) * 1000 >
            config.server.shutdownGraceMs,
        );
      });

      it('serves TLS that clients can check: the certificate covers the Service name', () => {
        const objects = objectsOf(set.name);
        const certificate = objects.find(
          (o) => o.kind === 'Certificate' && o.metadata.name === `${FULLNAME}-serving`,
        ) as (K8sObject & { spec: { dnsNames: string[]; secretName: string } }) | undefined;
        if (certificate !== undefined) {
          assert.ok(certificate.spec.dnsNames.includes(SERVICE_HOST));
          return;
        }
        const secret = objects.find(
          (o) => o.kind === 'Secret' && o.metadata.name === `${FULLNAME}-tls`,
        ) as (K8sObject & ISecret) | undefined;
        const data = defined(secret?.data, 'the TLS Secret');
        const ca = new X509Certificate(Buffer.from(defined(data['ca.crt'], 'ca.crt'), 'base64'));
        const leaf = new X509Certificate(
          Buffer.from(defined(data['tls.crt'], 'tls.crt'), 'base64'),
        );
        const key = createPrivateKey(Buffer.from(defined(data['tls.key'], 'tls.key'), 'base64'));
        assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey), 'tls.crt is signed by ca.crt');
        assert.ok(leaf.checkPrivateKey(key), 'tls.key belongs to tls.crt');
        assert.equal(leaf.checkHost(SERVICE_HOST), SERVICE_HOST);
        assert.equal(ca.ca, true);
        for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
          for (const config of ofKind<K8sObject & IValidatingWebhookConfiguration>(objects, kind)) {
            for (const w of config.webhooks ?? []) {
              assert.equal(w.clientConfig.caBundle, data['ca.crt'], `${kind} caBundle is the CA`);
            }
          }
        }
      });
    });
  }

  for (const set of VALUE_SETS.filter((s) => !s.files.includes('upload-hook-only.yaml'))) {
    describe(`the validating webhook with the ${set.name} values`, () => {
      it('is registered for exactly the workload kinds provgate reads, on CREATE and UPDATE', () => {
        const { webhook } = validatingWebhook(objectsOf(set.name));
        const expected = Object.keys(WORKLOADS)
          .map((r) => `${r} CREATE,UPDATE Namespaced`)
          .sort();
        assert.deepEqual(ruleKeys(webhook.rules ?? []), expected);
      });

      it('sends AdmissionReviews that provgate reads an image from, for every rule', () => {
        const { webhook } = validatingWebhook(objectsOf(set.name));
        const image = 'registry.example/app:v1';
        for (const key of ruleKeys(webhook.rules ?? [])) {
          const resource = key.split(' ')[0] as string;
          const req = parseAdmissionReview(reviewFor(resource, image));
          assert.deepEqual(
            imagesOf(req).map((i) => i.image),
            [image],
            `${resource}: provgate finds the image`,
          );
        }
      });

      it('speaks admission/v1 without side effects and calls /v1/k8s/validate over the Service', () => {
        const { webhook } = validatingWebhook(objectsOf(set.name));
        assert.deepEqual(webhook.admissionReviewVersions, ['v1']);
        assert.equal(webhook.sideEffects, 'None');
        assert.equal(webhook.clientConfig.service?.name, FULLNAME);
        assert.equal(webhook.clientConfig.service?.namespace, NAMESPACE);
        assert.equal(webhook.clientConfig.service?.path, '/v1/k8s/validate');
        const service = single<
          K8sObject & {
            spec: { ports: { port: number }[] };
          }
        >(objectsOf(set.name), 'Service');
        assert.equal(webhook.clientConfig.service?.port, service.spec.ports[0]?.port);
      });

      it('times out after provgate has answered: timeoutSeconds is above server.deadlineMs', () => {
        const objects = objectsOf(set.name);
        const { webhook } = validatingWebhook(objects);
        const { config } = configOf(objects);
        const timeoutMs = defined(webhook.timeoutSeconds, 'timeoutSeconds') * 1000;
        assert.ok(
          timeoutMs - config.server.deadlineMs >= 1000,
          `timeout ${timeoutMs} ms, deadline ${config.server.deadlineMs} ms`,
        );
        for (const m of ofKind<K8sObject & IMutatingWebhookConfiguration>(
          objects,
          'MutatingWebhookConfiguration',
        )) {
          for (const w of m.webhooks ?? []) {
            assert.ok(
              defined(w.timeoutSeconds, 'mutating timeoutSeconds') * 1000 -
                config.server.deadlineMs >=
                1000,
            );
          }
        }
      });

      it('exempts kube-system and its own namespace, the same ones provgate exempts', () => {
        const objects = objectsOf(set.name);
        const { webhook } = validatingWebhook(objects);
        const { config } = configOf(objects);
        const exempt = (webhook.namespaceSelector?.matchExpressions ?? []).find(
          (e) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn',
        );
        const values = defined(exempt?.values, 'the namespaceSelector exemption');
        assert.ok(values.includes('kube-system'));
        assert.ok(values.includes(NAMESPACE));
        assert.deepEqual(
          [...values].sort(),
          [...config.endpoints.kubernetes.exemptNamespaces].sort(),
        );
        assert.equal(config.endpoints.kubernetes.enabled, true);
      });
    });
  }

  describe('with the defaults', () => {
    it('fails closed, enforces, and generates its own CA', () => {
      const objects = objectsOf('defaults');
      const { webhook } = validatingWebhook(objects);
      const { config } = configOf(objects);
      assert.equal(webhook.failurePolicy, 'Fail');
      assert.equal(webhook.timeoutSeconds, 10);
      assert.equal(config.server.deadlineMs, 8000);
      assert.equal(config.endpoints.kubernetes.mode, 'enforce');
      assert.equal(config.endpoints.upload.enabled, false);
      assert.equal(config.endpoints.admit.enabled, false);
      assert.equal(config.policy.bundle, undefined, 'the bundle inside the image');
      assert.deepEqual(config.trust.trustedRoots, [], 'the embedded trust root');
      assert.deepEqual(ofKind(objects, 'MutatingWebhookConfiguration'), []);
      assert.deepEqual(ofKind(objects, 'Certificate'), []);
    });

    it('lets traffic in only on the HTTPS port and out only to DNS and registries', () => {
      const np = single<
        K8sObject & {
          spec: {
            policyTypes: string[];
            ingress: { ports: { port: unknown }[]; from?: unknown }[];
            egress: { ports: { port: unknown }[] }[];
          };
        }
      >(objectsOf('defaults'), 'NetworkPolicy');
      assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
      assert.deepEqual(
        np.spec.ingress.flatMap((r) => r.ports.map((p) => p.port)),
        ['https'],
      );
      assert.deepEqual(
        np.spec.egress.flatMap((r) => r.ports.map((p) => p.port)),
        [53, 53, 443],
      );
      // Registries anywhere, but never the link-local (cloud metadata) range.
      const registry = np.spec.egress[1] as { to?: { ipBlock: unknown }[] };
      assert.deepEqual(
        registry.to?.map((t) => t.ipBlock),
        [
          { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] },
          { cidr: '::/0', except: ['fe80::/10'] },
        ],
      );
    });
  });

  describe('with cert-manager', () => {
    it('asks cert-manager for the serving certificate and to inject its CA', () => {
      const objects = objectsOf('cert-manager');
      const { config: vwc, webhook } = validatingWebhook(objects);
      const certificate = single<
        K8sObject & { spec: { secretName: string; issuerRef: { name: string } } }
      >(
        ofKind(objects, 'Certificate').filter((c) => c.metadata.name === `${FULLNAME}-serving`),
        'Certificate',
      );
      assert.equal(
        vwc.metadata?.annotations?.['cert-manager.io/inject-ca-from'],
        `${NAMESPACE}/${certificate.metadata.name}`,
      );
      assert.equal(webhook.clientConfig.caBundle, undefined);
      assert.ok(
        !ofKind(objects, 'Secret').some((s) => s.metadata.name === `${FULLNAME}-tls`),
        'no Helm-made certificate',
      );
      const tlsVolume = (podSpecOf(objects).volumes ?? []).find((v) => v.name === 'tls');
      assert.equal(tlsVolume?.secret?.secretName, certificate.spec.secretName);
      const issuers = ofKind(objects, 'Issuer').map((i) => i.metadata.name);
      assert.ok(issuers.includes(certificate.spec.issuerRef.name), 'the CA issuer is rendered');
      assert.equal(
        gateContainer(objects).image,
        `registry.example.com/security/provgate@sha256:${'0'.repeat(64)}`,
      );
    });

    it('scrapes /metrics over HTTPS, checking the certificate against its CA', () => {
      interface ServiceMonitorEndpoint {
        port: string;
        scheme: string;
        path: string;
        tlsConfig: { serverName: string; ca: { secret: { name: string; key: string } } };
      }
      const sm = single<K8sObject & { spec: { endpoints: ServiceMonitorEndpoint[] } }>(
        objectsOf('cert-manager'),
        'ServiceMonitor',
      );
      const ep = defined(sm.spec.endpoints[0], 'the endpoint');
      assert.equal(ep.scheme, 'https');
      assert.equal(ep.path, '/metrics');
      assert.equal(ep.tlsConfig.serverName, SERVICE_HOST);
      assert.deepEqual(ep.tlsConfig.ca.secret, { name: `${FULLNAME}-tls`, key: 'ca.crt' });
    });
  });

  describe('in warn mode', () => {
    it('passes the modes, exemptions and a deadline derived from the longer timeout', () => {
      const objects = objectsOf('warn mode');
      const { webhook } = validatingWebhook(objects);
      const { config } = configOf(objects);
      assert.equal(config.endpoints.kubernetes.mode, 'warn');
      assert.deepEqual(config.endpoints.kubernetes.namespaceModes, { 'legacy-apps': 'audit' });
      assert.ok(config.endpoints.kubernetes.exemptNamespaces.includes('cert-manager'));
      assert.equal(webhook.failurePolicy, 'Ignore');
      assert.equal(webhook.timeoutSeconds, 15);
      assert.equal(config.server.deadlineMs, 13000);
      assert.equal(webhook.matchConditions?.[0]?.name, 'not-node-lifecycle');
      assert.ok(
        (webhook.namespaceSelector?.matchExpressions ?? []).some(
          (e) => e.key === 'provgate.dev/skip',
        ),
      );
      assert.equal(config.decisionLog.input, 'full');
      assert.equal(config.endpoints.kubernetes.attestationStore, '/var/lib/provgate/attestations');
    });

    it('registers the mutating webhook that pins tags, failing open, and turns the endpoint on', () => {
      const m = single<K8sObject & IMutatingWebhookConfiguration>(
        objectsOf('warn mode'),
        'MutatingWebhookConfiguration',
      );
      const w = defined(m.webhooks?.[0], 'the mutating webhook');
      assert.equal(w.failurePolicy, 'Ignore');
      assert.equal(w.clientConfig.service?.path, '/v1/k8s/mutate');
      assert.equal(configOf(objectsOf('warn mode')).config.endpoints.kubernetes.mutate, true);
      assert.deepEqual(
        ruleKeys(w.rules ?? []),
        ruleKeys(validatingWebhook(objectsOf('warn mode')).webhook.rules ?? []),
      );
      assert.deepEqual(w.admissionReviewVersions, ['v1']);
      assert.equal(w.sideEffects, 'None');
    });
  });

  describe('with a custom trust root (air-gapped)', () => {
    it('mounts the given trusted root, keys and policy bundle byte for byte', () => {
      const objects = objectsOf('custom trust root');
      const { config } = configOf(objects);
      const { files } = mountedFiles(objects);
      assert.equal(config.trust.includeEmbedded, false);
      assert.equal(config.trust.trustedRoots.length, 1);
      const root = defined(config.trust.trustedRoots[0], 'the trusted root path');
      assert.equal(files.get(root), readFileSync(TRUSTED_ROOT, 'utf8'));
      const bundle = defined(config.policy.bundle, 'policy.bundle');
      assert.equal(files.get(bundle), readFileSync(POLICY_BUNDLE).toString('latin1'));
      const key = defined(config.trust.keys[0], 'trust.keys[0]');
      assert.equal(key.keyId, 'release-signing');
      assert.match(defined(files.get(key.path), key.path), /^-----BEGIN PUBLIC KEY-----/);
      const signing = defined(config.policy.signingKeys[0], 'policy.signingKeys[0]');
      assert.equal(signing.algorithm, 'ES256');
      assert.match(defined(files.get(signing.path), signing.path), /^-----BEGIN PUBLIC KEY-----/);
      // A new bundle rolls the pods.
      assert.match(
        deploymentOf(objects).spec?.template.metadata?.annotations?.['checksum/policy'] ?? '',
        /^[0-9a-f]{64}$/,
      );
    });
  });

  describe('as an upload hook only', () => {
    it('serves /v1/upload with tokens from a Secret and client certificates, and no webhook', () => {
      const objects = objectsOf('upload hook only');
      const { config } = configOf(objects);
      const { files } = mountedFiles(objects);
      assert.equal(config.endpoints.kubernetes.enabled, false);
      assert.deepEqual(ofKind(objects, 'ValidatingWebhookConfiguration'), []);
      assert.deepEqual(ofKind(objects, 'MutatingWebhookConfiguration'), []);
      assert.equal(config.endpoints.upload.enabled, true);
      assert.equal(config.endpoints.upload.statusStyle, 'http');
      assert.deepEqual(config.endpoints.upload.tokens, [], 'no token in the ConfigMap');
      const tokensFile = defined(config.endpoints.upload.tokensFile, 'tokensFile');
      assert.equal(files.get(tokensFile), 'repo-manager-token-0123456789abcdef\n');
      assert.ok(
        !configOf(objects).text.includes('repo-manager-token'),
        'no token in the ConfigMap',
      );
      assert.match(
        defined(files.get(defined(config.server.tls?.clientCaFile, 'clientCaFile')), 'client CA'),
        /BEGIN CERTIFICATE/,
      );
      assert.equal(config.limits.uploadBytes, 536870912);
      const service = single<K8sObject & { spec: { type: string } }>(objects, 'Service');
      assert.equal(service.spec.type, 'LoadBalancer');
      const secret = objects.find((o) => o.metadata.name === `${FULLNAME}-tls`) as K8sObject &
        ISecret;
      const leaf = new X509Certificate(
        Buffer.from(defined(secret.data?.['tls.crt'], 'tls.crt'), 'base64'),
      );
      assert.equal(leaf.checkHost('provgate.repo.example.com'), 'provgate.repo.example.com');
    });
  });

  describe('with a policy bundle from a URL', () => {
    it('fetches it in an init container that checks its SHA-256, and opens only that port', () => {
      const objects = objectsOf('policy bundle from a URL');
      const { config } = configOf(objects);
      const init = defined(podSpecOf(objects).initContainers?.[0], 'the init container');
      const env = Object.fromEntries((init.env ?? []).map((e) => [e.name, e.value]));
      assert.equal(
        env.BUNDLE_SHA256,
        '4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a',
      );
      assert.equal(env.BUNDLE_OUT, config.policy.bundle);
      const cm = objects.find((o) => o.metadata.name === `${FULLNAME}-config`) as K8sObject &
        IConfigMap;
      assert.match(defined(cm.data?.['fetch-bundle.mjs'], 'fetch-bundle.mjs'), /got !== want/);
      const np = single<
        K8sObject & {
          spec: { egress: { ports: { port: unknown }[] }[] };
        }
      >(objects, 'NetworkPolicy');
      assert.deepEqual(
        np.spec.egress.flatMap((r) => r.ports.map((p) => p.port)),
        [53, 53, 443, 8443],
      );
    });
  });

  describe('served by provgate itself', () => {
    it("answers the API server over the chart's TLS: denies when the image's registry is down, skips its own namespace", async () => {
      const gate = await serveRendered('defaults');
      try {
        // A registry that refuses connections, on loopback: no test reaches the network.
        const image = `127.0.0.1:9/smoke@sha256:${'0'.repeat(64)}`;
        const review = reviewFor('/v1/pods', image) as {
          request: { uid: string; namespace: string };
        };
        const denied = await call(gate, '/v1/k8s/validate', JSON.stringify(review), {
          'content-type': 'application/json',
        });
        assert.equal(denied.status, 200);
        const response = denied.json.response as {
          uid: string;
          allowed: boolean;
          status?: { code: number; message: string };
        };
        assert.equal(response.uid, review.request.uid);
        assert.equal(response.allowed, false);
        assert.equal(response.status?.code, 403);
        // Deny by default: an unreachable registry is a denial that names it, not an allow.
        assert.match(response.status?.message ?? '', /127\.0\.0\.1:9/);

        review.request.namespace = NAMESPACE;
        const exempt = await call(gate, '/v1/k8s/validate', JSON.stringify(review), {
          'content-type': 'application/json',
        });
        assert.equal((exempt.json.response as { allowed: boolean }).allowed, true);
      } finally {
        assert.equal(await gate.stop(), 0, 'provgate stops cleanly on SIGTERM');
      }
    });

    it("runs the upload hook with the token from the chart's Secret and answers 403 on a denial", async () => {
      const gate = await serveRendered('upload hook only');
      const fixtures = join(ROOT, 'test/fixtures/npm-attestations');
      const upload = (name: string) =>
        multipart([
          {
            name: 'artifact',
            filename: `${name}.tgz`,
            content: readFileSync(join(fixtures, `${name}.tgz`)),
          },
          {
            name: 'provenance',
            filename: `${name}.tgz.json`,
            content: readFileSync(join(fixtures, `${name}.tgz.json`)),
          },
        ]);
      const token = { authorization: 'Bearer repo-manager-token-0123456789abcdef' };
      try {
        const good = upload('gundam-visor-cli-v1-tag');
        const allowed = await call(gate, '/v1/upload', good.body, {
          'content-type': good.type,
          ...token,
        });
        assert.equal(allowed.status, 200);
        assert.equal(allowed.json.allowed, true);

        const tampered = upload('gundam-visor-cli-v1-tag-invalidsigprov');
        const denied = await call(gate, '/v1/upload', tampered.body, {
          'content-type': tampered.type,
          ...token,
        });
        assert.equal(denied.status, 403);
        assert.match(JSON.stringify(denied.json.reasons), /SIGNATURE_INVALID/);

        const anonymous = await call(gate, '/v1/upload', good.body, { 'content-type': good.type });
        assert.equal(anonymous.status, 401);
      } finally {
        assert.equal(await gate.stop(), 0);
      }
    });
  });

  describe('refuses to render', () => {
    const cases: { name: string; args: string[]; error: RegExp }[] = [
      {
        name: 'a deadline the webhook timeout does not leave room for',
        args: ['--set', 'webhook.deadlineMarginMs=500'],
        error: /webhook\.deadlineMarginMs is 500: keep at least 1000 ms/,
      },
      {
        name: 'a configured deadline at or above the webhook timeout',
        args: ['--set', 'config.server.deadlineMs=9500'],
        error:
          /deadline \(9500 ms\) must be at least 1000 ms below the webhook timeout \(10000 ms\)/,
      },
      {
        name: 'a timeout too short for any deadline',
        args: ['--set', 'webhook.timeoutSeconds=1'],
        error: /deadline would be -1000 ms/,
      },
      {
        name: 'an upload hook that would answer anyone',
        args: ['--set', 'upload.enabled=true'],
        error: /upload\.enabled: set upload\.tokens/,
      },
      {
        name: 'a short upload token',
        args: ['--set', 'upload.enabled=true', '--set', 'upload.tokens[0]=short'],
        error: /tokens/,
      },
      {
        name: 'a policy URL without its digest',
        args: ['--set', 'policy.bundle.url=https://example.com/b.tar.gz'],
        error: /policy\.bundle\.url needs policy\.bundle\.sha256/,
      },
      {
        name: 'two policy bundle sources',
        args: ['--set', 'policy.bundle.existingConfigMap=x', '--set', 'policy.bundle.base64=AAAA'],
        error: /set at most one of base64, existingConfigMap, url/,
      },
      {
        name: 'a mutating webhook without registry discovery to resolve tags',
        args: [
          '--set',
          'mutatingWebhook.enabled=true',
          '--set',
          'discovery.registry.enabled=false',
        ],
        error: /mutatingWebhook\.enabled needs discovery\.registry\.enabled/,
      },
      {
        name: 'an unknown value (a typo)',
        args: ['--set', 'webhook.failurPolicy=Ignore'],
        error: /failurPolicy/,
      },
      {
        name: 'an unknown mode',
        args: ['--set', 'webhook.mode=permissive'],
        error: /mode/,
      },
      {
        name: 'a policy signing key without its algorithm',
        args: [
          '--set',
          'policy.signingKeys[0].keyId=k',
          '--set-string',
          'policy.signingKeys[0].pem=-----BEGIN PUBLIC KEY-----',
        ],
        error: /algorithm/,
      },
      {
        name: 'an existing TLS Secret without the CA the API server must trust',
        args: ['--set', 'tls.existingSecret=my-tls'],
        error: /tls\.existingSecret needs tls\.caBundle/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const r = await helm(helmBin, templateArgs(['defaults.yaml'], c.args));
        assert.equal(r.ok, false, 'helm template succeeded');
        assert.match(r.stderr, c.error);
      });
    }

    it('and renders the same values once they are fixed', async () => {
      const r = await helm(
        helmBin,
        templateArgs(['defaults.yaml'], ['--set', 'webhook.timeoutSeconds=3']),
      );
      assert.ok(r.ok, r.stderr);
    });
  });
});
