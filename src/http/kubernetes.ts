// The Kubernetes validating admission webhook: AdmissionReview v1 in,
// AdmissionReview v1 out, echoing the request's uid. Every image of every
// workload kind that carries a pod template is checked.
import { Router, type RequestHandler } from 'express';
import type { Config, Mode } from '../config/index.ts';
import type { ArtifactRequest } from '../gate/index.ts';
import {
  admissionResponse,
  imagesOf,
  parseAdmissionReview,
  parseImageReference,
} from '../k8s/index.ts';
import { parseJsonBody, type BodyLimits } from './body.ts';
import type { Decide } from './upload.ts';

export interface KubernetesDeps {
  config: Config;
  decide: Decide;
  limits: BodyLimits;
  rawJson: RequestHandler;
}

const ROUTE = 'kubernetes';

export function kubernetesRoutes(deps: KubernetesDeps): Router {
  const { config } = deps;
  const router = Router();
  router.post('/v1/k8s/validate', deps.rawJson, async (req, res) => {
    const ep = config.endpoints.kubernetes;
    const review = parseAdmissionReview(parseJsonBody(req.body, deps.limits));
    const reply = (result: Parameters<typeof admissionResponse>[1]) =>
      res.json(admissionResponse(review.uid, result));

    if (!ep.enabled) {
      reply({
        allowed: false,
        code: 403,
        message: 'provgate: the Kubernetes endpoint is disabled in its configuration',
      });
      return;
    }
    // Only what creates or changes workloads is checked.
    if (review.operation !== 'CREATE' && review.operation !== 'UPDATE') {
      reply({ allowed: true });
      return;
    }
    const namespace = review.namespace ?? '';
    if (ep.exemptNamespaces.includes(namespace)) {
      reply({ allowed: true, auditAnnotations: { exempt: `namespace ${namespace}` } });
      return;
    }
    const mode: Mode = ep.namespaceModes[namespace] ?? ep.mode;

    const images = imagesOf(review);
    const unpinned: string[] = []; // images denied before any verification: tag-only or invalid
    const artifacts = new Map<string, ArtifactRequest>();
    for (const img of images) {
      let ref: ReturnType<typeof parseImageReference>;
      try {
        ref = parseImageReference(img.image);
      } catch (err) {
        // One bad reference is a denial naming it, not a failed request.
        unpinned.push(
          `${img.image} (${img.type} ${img.container}) is not a valid image reference: ${(err as Error).message}`,
        );
        continue;
      }
      if (ref.digest === undefined) {
        unpinned.push(
          `${img.image} (${img.type} ${img.container}) is referenced by tag only; provgate checks images by digest: pin it as ${ref.normalized}@sha256:...`,
        );
        continue;
      }
      const [alg, hex] = ref.digest.split(':') as ['sha256' | 'sha512', string];
      if (!artifacts.has(ref.digest)) {
        artifacts.set(ref.digest, {
          artifact: {
            name: `${ref.registry}/${ref.repository}`,
            uri: ref.normalized,
            digests: { [alg]: hex },
          },
          attestations: [],
          discover: true,
        });
      }
    }
    const context = {
      namespace,
      name: review.name,
      operation: review.operation,
      kind: review.kind,
      resource: review.resource,
      subResource: review.subResource,
      dryRun: review.dryRun,
      userInfo: review.userInfo,
      images: images.map((i) => ({ image: i.image, container: i.container, type: i.type })),
    };
    const { decision, rendered } =
      artifacts.size > 0
        ? await deps.decide(ROUTE, mode, {
            kind: 'kubernetes',
            context,
            artifacts: [...artifacts.values()],
          })
        : { decision: undefined, rendered: undefined };

    const reasons = [...unpinned, ...(decision?.reasons ?? [])];
    const allowedByPolicy = reasons.length === 0 && (decision?.allowed ?? true);
    const allowed = allowedByPolicy || mode !== 'enforce';
    const annotations: Record<string, string> = {
      decision: allowedByPolicy ? 'allowed' : 'denied',
    };
    if (decision !== undefined) annotations['decision-id'] = decision.decisionId;
    if (mode !== 'enforce') annotations.mode = mode;
    // render() already turned the policy's denials into warnings in warn mode.
    const warnings = [
      ...(rendered?.warnings ?? []),
      ...(mode === 'warn' ? unpinned.map((r) => `not enforced (warn mode): ${r}`) : []),
    ];
    reply({
      allowed,
      ...(allowed ? {} : { code: 403, message: denialMessage(reasons) }),
      ...(mode === 'audit' ? {} : { warnings }),
      auditAnnotations: annotations,
    });
  });

  return router;
}

function denialMessage(reasons: string[]): string {
  return `provgate denied the request: ${reasons.join('; ')}`;
}
