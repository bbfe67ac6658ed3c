// The Kubernetes admission webhooks: AdmissionReview v1 in, AdmissionReview v1
// out, echoing the request's uid. /v1/k8s/validate checks every image of every
// workload kind that carries a pod template; /v1/k8s/mutate (optional) pins
// tag references to the digest the registry resolves them to.
import { Router, type RequestHandler } from 'express';
import type { Config, Mode } from '../config/index.ts';
import type { ArtifactDecision, ArtifactRequest } from '../gate/index.ts';
import {
  admissionResponse,
  imagesOf,
  parseAdmissionReview,
  parseImageReference,
  type AdmissionRequest,
  type ImageReference,
  type PodImage,
} from '../k8s/index.ts';
import { parseJsonBody, type BodyLimits } from './body.ts';
import { HttpError } from './errors.ts';
import type { Decide } from './upload.ts';

export interface KubernetesDeps {
  config: Config;
  decide: Decide;
  limits: BodyLimits;
  rawJson: RequestHandler;
  resolveTag?: (ref: string, signal: AbortSignal) => Promise<{ digest: string }>;
}

const ROUTE = 'kubernetes';

interface ResolvedImage {
  image: PodImage;
  ref: ImageReference;
  /** `sha256:<hex>`: pinned in the reference, or resolved from its tag. */
  digest: string;
  resolvedFromTag: boolean;
}

export function kubernetesRoutes(deps: KubernetesDeps): Router {
  const { config } = deps;
  const router = Router();

  /** Parses each image and pins it to a digest; what cannot be pinned is a reason to deny, naming the image. */
  const pinImages = async (
    images: PodImage[],
    signal: AbortSignal,
  ): Promise<{ pinned: ResolvedImage[]; problems: string[] }> => {
    const pinned: ResolvedImage[] = [];
    const problems: string[] = [];
    await Promise.all(
      images.map(async (image) => {
        const where = `${image.image} (${image.type} ${image.container})`;
        let ref: ImageReference;
        try {
          ref = parseImageReference(image.image);
        } catch (err) {
          problems.push(`${where} is not a valid image reference: ${(err as Error).message}`);
          return;
        }
        if (ref.digest !== undefined) {
          pinned.push({ image, ref, digest: ref.digest, resolvedFromTag: false });
          return;
        }
        if (deps.resolveTag === undefined) {
          problems.push(
            `${where} is referenced by tag only and registry discovery is off; pin it as ${ref.registry}/${ref.repository}@sha256:...`,
          );
          return;
        }
        try {
          const { digest } = await deps.resolveTag(ref.normalized, signal);
          pinned.push({ image, ref, digest, resolvedFromTag: true });
        } catch (err) {
          problems.push(`${where}: cannot resolve the tag to a digest: ${(err as Error).message}`);
        }
      }),
    );
    return { pinned, problems };
  };

  const review = (body: unknown): AdmissionRequest =>
    parseAdmissionReview(parseJsonBody(body, deps.limits));
  const checked = (r: AdmissionRequest): boolean =>
    (r.operation === 'CREATE' || r.operation === 'UPDATE') &&
    !config.endpoints.kubernetes.exemptNamespaces.includes(r.namespace ?? '');

  router.post('/v1/k8s/validate', deps.rawJson, async (req, res) => {
    const ep = config.endpoints.kubernetes;
    const r = review(req.body);
    const reply = (result: Parameters<typeof admissionResponse>[1]) =>
      res.json(admissionResponse(r.uid, result));
    if (!ep.enabled) {
      reply({
        allowed: false,
        code: 403,
        message: 'provgate: the Kubernetes endpoint is disabled in its configuration',
      });
      return;
    }
    // Only what creates or changes workloads is checked; exempt namespaces never are.
    if (!checked(r)) {
      reply({
        allowed: true,
        ...(r.operation === 'CREATE' || r.operation === 'UPDATE'
          ? { auditAnnotations: { exempt: `namespace ${r.namespace ?? ''}` } }
          : {}),
      });
      return;
    }
    const namespace = r.namespace ?? '';
    const mode: Mode = ep.namespaceModes[namespace] ?? ep.mode;
    const started = Date.now();
    const signal = AbortSignal.timeout(config.server.deadlineMs);
    const images = imagesOf(r);
    const { pinned, problems } = await pinImages(images, signal);

    const artifacts = new Map<string, ArtifactRequest>();
    for (const p of pinned) {
      if (artifacts.has(p.digest)) continue;
      const [alg, hex] = p.digest.split(':') as ['sha256' | 'sha512', string];
      artifacts.set(p.digest, {
        artifact: {
          name: `${p.ref.registry}/${p.ref.repository}`,
          uri: `${p.ref.registry}/${p.ref.repository}@${p.digest}`,
          digests: { [alg]: hex },
        },
        attestations: [],
        discover: true,
      });
    }
    const context = {
      namespace,
      name: r.name,
      operation: r.operation,
      kind: r.kind,
      resource: r.resource,
      subResource: r.subResource,
      dryRun: r.dryRun,
      userInfo: r.userInfo,
      images: images.map((i) => ({ image: i.image, container: i.container, type: i.type })),
      resolved: pinned
        .filter((p) => p.resolvedFromTag)
        .map((p) => ({ image: p.image.image, digest: p.digest })),
    };
    const remaining = Math.max(1, config.server.deadlineMs - (Date.now() - started));
    // Images that could not be pinned are denied by the edge, but the decision
    // (logged, counted) includes them.
    const { decision } =
      images.length > 0
        ? await deps.decide(
            ROUTE,
            mode,
            {
              kind: 'kubernetes',
              context,
              artifacts: [...artifacts.values()],
              deadlineMs: remaining,
            },
            problems,
          )
        : { decision: undefined };

    // Every reason and warning names the images it is about, as the pod spec
    // writes them: the gate prefixes nothing when there is one artifact, and
    // Kubernetes cuts each warning to 120 characters, so the name goes first.
    const refs = new Map<string, string[]>();
    for (const p of pinned) {
      const list = refs.get(p.digest) ?? [];
      if (!list.includes(p.image.image)) list.push(p.image.image);
      refs.set(p.digest, list);
    }
    const label = (a: ArtifactDecision): string => {
      const d = a.artifact.digests;
      const digest = d.sha256 !== undefined ? `sha256:${d.sha256}` : `sha512:${d.sha512 ?? ''}`;
      return (refs.get(digest) ?? [a.artifact.uri ?? a.artifact.name]).join(', ');
    };
    const reasons = [
      ...problems,
      ...(decision?.artifacts ?? []).flatMap((a) =>
        a.allowed ? [] : a.reasons.map((reason) => `${label(a)}: ${reason}`),
      ),
    ];
    // Deny by default: a denial the artifacts do not explain keeps the gate's own reasons.
    if (decision !== undefined && !decision.allowed && reasons.length === 0)
      reasons.push(...decision.reasons);
    const allowedByPolicy = reasons.length === 0 && (decision?.allowed ?? true);
    const allowed = allowedByPolicy || mode !== 'enforce';
    const annotations: Record<string, string> = {
      decision: allowedByPolicy ? 'allowed' : 'denied',
    };
    if (decision !== undefined) annotations['decision-id'] = decision.decisionId;
    if (mode !== 'enforce') annotations.mode = mode;
    const warnings = [
      ...policyWarnings(decision?.artifacts ?? [], label),
      ...(mode === 'warn' ? reasons.map((p) => `not enforced (warn mode): ${p}`) : []),
    ];
    reply({
      allowed,
      ...(allowed
        ? {}
        : { code: 403, message: `provgate denied the request: ${reasons.join('; ')}` }),
      ...(mode === 'audit' ? {} : { warnings }),
      auditAnnotations: annotations,
    });
  });

  router.post('/v1/k8s/mutate', deps.rawJson, async (req, res) => {
    const ep = config.endpoints.kubernetes;
    if (!ep.enabled || !ep.mutate)
      throw new HttpError('ENDPOINT_DISABLED', 'the Kubernetes mutate endpoint is disabled');
    const r = review(req.body);
    if (!checked(r) || deps.resolveTag === undefined) {
      res.json(admissionResponse(r.uid, { allowed: true }));
      return;
    }
    const { pinned } = await pinImages(imagesOf(r), AbortSignal.timeout(config.server.deadlineMs));
    // A reference that cannot be resolved is left alone: the validating webhook denies it.
    const patch = pinned
      .filter((p) => p.resolvedFromTag)
      .map((p) => ({
        op: 'replace',
        path: jsonPointer(p.image.path),
        value: `${p.image.image}@${p.digest}`,
      }));
    res.json(
      admissionResponse(r.uid, {
        allowed: true,
        ...(patch.length === 0 ? {} : { patch }),
        auditAnnotations: { pinned: String(patch.length) },
      }),
    );
  });
  return router;
}

/** The policy's warnings: once when every image has it (as "accepting any source repository"), else per image. */
function policyWarnings(
  artifacts: ArtifactDecision[],
  label: (a: ArtifactDecision) => string,
): string[] {
  const out: string[] = [];
  for (const a of artifacts) {
    for (const w of a.warnings) {
      const text = artifacts.every((b) => b.warnings.includes(w)) ? w : `${label(a)}: ${w}`;
      if (!out.includes(text)) out.push(text);
    }
  }
  return out;
}

/** `spec.template.spec.containers[0].image` -> `/spec/template/spec/containers/0/image`. */
export function jsonPointer(path: string): string {
  return `/${path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1'))
    .join('/')}`;
}
