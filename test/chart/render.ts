// Rendering the Helm chart and checking what it renders: helm itself (pinned,
// installed by scripts/tools.sh), the Kubernetes API schemas (kubernetes-models'
// compiled OpenAPI validators) and a strict unknown-field check those schemas
// do not make on their own.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import { Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';

const run = promisify(execFile);

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHART = fileURLToPath(new URL('../../charts/provgate', import.meta.url));
export const VALUES_DIR = fileURLToPath(new URL('./values/', import.meta.url));
/** helm built by `go install` has no cluster version baked in; say which API we target. */
export const KUBE_VERSION = '1.33.0';
export const RELEASE = 'gate';
export const NAMESPACE = 'provgate-system';

export type JsonObject = Record<string, unknown>;

export interface K8sObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
}

/** Installs the pinned helm when missing (a `go install`, minutes the first time) and returns its path. */
export async function installHelm(): Promise<string> {
  const { stdout } = await run(`${ROOT}scripts/tools.sh`, ['--path', 'helm'], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  const path = stdout.trim().split('\n').at(-1) ?? '';
  if (path === '') throw new Error('scripts/tools.sh --path helm printed no path');
  return path;
}

export interface HelmResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

export async function helm(bin: string, args: string[]): Promise<HelmResult> {
  try {
    const { stdout, stderr } = await run(bin, args, {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
      // No repository, registry or cluster is ever contacted: helm's own config
      // stays out of the user's home.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: ROOT,
        HELM_CACHE_HOME: `${ROOT}.tools/helm/cache`,
        HELM_CONFIG_HOME: `${ROOT}.tools/helm/config`,
        HELM_DATA_HOME: `${ROOT}.tools/helm/data`,
        KUBECONFIG: '/dev/null',
      },
    });
    return { ok: true, stdout, stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

/** `helm template` with the values files and extra flags; the objects it renders. */
export async function template(
  bin: string,
  valuesFiles: string[],
  extra: string[] = [],
): Promise<K8sObject[]> {
  const r = await helm(bin, templateArgs(valuesFiles, extra));
  if (!r.ok) throw new Error(`helm template failed:\n${r.stderr}`);
  return parseManifests(r.stdout);
}

export function templateArgs(valuesFiles: string[], extra: string[] = []): string[] {
  return [
    'template',
    RELEASE,
    CHART,
    '--namespace',
    NAMESPACE,
    '--kube-version',
    KUBE_VERSION,
    ...valuesFiles.flatMap((f) => ['--values', `${VALUES_DIR}${f}`]),
    ...extra,
  ];
}

/** Parses helm's output the way the API server's YAML decoder does (YAML 1.1). */
export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text, { version: '1.1', uniqueKeys: true })) {
    if (doc.errors.length > 0)
      throw new Error(`rendered YAML is invalid: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    objects.push(value as K8sObject);
  }
  return objects;
}

interface Model {
  validate(): void;
}
type ModelClass = new (data: never) => Model;

/** Every kind the chart may render, by apiVersion and kind. */
const MODELS: ReadonlyMap<string, ModelClass> = new Map<string, ModelClass>([
  ['v1/ConfigMap', ConfigMap],
  ['v1/Secret', Secret],
  ['v1/Service', Service],
  ['v1/ServiceAccount', ServiceAccount],
  ['apps/v1/Deployment', Deployment],
  ['policy/v1/PodDisruptionBudget', PodDisruptionBudget],
  ['networking.k8s.io/v1/NetworkPolicy', NetworkPolicy],
  ['rbac.authorization.k8s.io/v1/Role', Role],
  ['rbac.authorization.k8s.io/v1/RoleBinding', RoleBinding],
  [
    'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration',
    ValidatingWebhookConfiguration,
  ],
  ['admissionregistration.k8s.io/v1/MutatingWebhookConfiguration', MutatingWebhookConfiguration],
  ['cert-manager.io/v1/Certificate', Certificate],
  ['cert-manager.io/v1/Issuer', Issuer],
  ['monitoring.coreos.com/v1/ServiceMonitor', ServiceMonitor],
]);

interface SchemaError {
  instancePath: string;
  message?: string;
}

function schemaErrors(model: ModelClass, object: unknown): SchemaError[] {
  try {
    new model(object as never).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: SchemaError[] }).errors;
    if (!Array.isArray(errors)) throw err;
    return errors;
  }
}

/**
 * Problems with one rendered object: errors against its API schema, then every
 * field the schema does not know. The OpenAPI schemas let unknown fields through
 * (the API server drops or refuses them later), so each field is probed: given a
 * value no schema type accepts, a field the schema knows makes validation fail at
 * that very path; a field it does not know changes nothing.
 */
export function validateObject(object: K8sObject): string[] {
  const model = MODELS.get(`${object.apiVersion}/${object.kind}`);
  if (model === undefined) return [`no API schema known for ${object.apiVersion} ${object.kind}`];
  const errors = schemaErrors(model, object).map(
    (e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`,
  );
  if (errors.length > 0) return errors;
  return unknownFields(model, object).map((p) => `${p}: unknown field`);
}

const PROBE = Symbol('probe');

function unknownFields(model: ModelClass, object: JsonObject): string[] {
  const unknown: string[] = [];
  const walk = (value: unknown, path: (string | number)[]): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, [...path, i]));
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      const at = [...path, key];
      if (!schemaConstrains(model, object, at)) {
        unknown.push(`/${at.join('/')}`);
        continue;
      }
      walk(child, at);
    }
  };
  walk(object, []);
  return unknown;
}

function schemaConstrains(
  model: ModelClass,
  object: JsonObject,
  path: (string | number)[],
): boolean {
  const copy = structuredClone(object);
  let parent: unknown = copy;
  for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
  (parent as Record<string | number, unknown>)[path.at(-1) as string | number] = PROBE;
  // RFC 6901, as ajv reports instancePath: `/` in a key (app.kubernetes.io/name) is ~1.
  const pointer = `/${path.map((k) => String(k).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
  return schemaErrors(model, copy).some(
    (e) => e.instancePath === pointer || e.instancePath.startsWith(`${pointer}/`),
  );
}

/** The objects of one kind. */
export function ofKind<T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}

/** The one object of a kind (fails when there are none or several). */
export function single<T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string): T {
  const found = ofKind<T>(objects, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, rendered ${found.length}`);
  return found[0] as T;
}
