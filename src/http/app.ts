// The HTTP edge: routes parse requests into GateRequests, the gate decides, and
// the routes render the decision for their caller. Nothing here decides.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config, Mode } from '../config/index.ts';
import type { Decision, Gate, GateRequest } from '../gate/index.ts';
import { parseArtifact, parseContext, parseJsonBody, asObject, type BodyLimits } from './body.ts';
import { decisionRecord } from './decisionlog.ts';
import { BaseError } from '../error.ts';
import { HttpError, sendError, statusOf } from './errors.ts';
import type { Metrics } from './metrics.ts';
import { OPENAPI } from './openapi.ts';
import { kubernetesRoutes } from './kubernetes.ts';
import { uploadRoute } from './upload.ts';

export interface AppDeps {
  gate: Gate;
  config: Config;
  metrics: Metrics;
  /** Where decision records go (winston in production). */
  logDecision: (record: Record<string, unknown>) => void;
  /** Trust material and policy loaded? Reasons when not. */
  readiness: () => { ready: boolean; reasons: string[] };
  /** Bearer tokens the upload hook accepts (re-read when the file changes). */
  uploadTokens: () => string[];
  /** Told of unexpected errors (answered 500). */
  onError?: (err: unknown) => void;
  /** Resolves an image tag to the digest the kubelet would pull (registry discovery). */
  resolveTag?: (ref: string, signal: AbortSignal) => Promise<{ digest: string }>;
}

export interface RenderedDecision {
  allowed: boolean;
  decisionId: string;
  mode: Mode;
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

export function createApp(deps: AppDeps): express.Express {
  const { config, metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const limits: BodyLimits = {
    bodyBytes: config.limits.bodyBytes,
    jsonDepth: config.limits.jsonDepth,
  };
  const rawJson = express.raw({ type: () => true, limit: config.limits.bodyBytes });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const r = deps.readiness();
    res.status(r.ready ? 200 : 503).json({ ready: r.ready, reasons: r.reasons });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(OPENAPI);
  });

  /**
   * Runs the gate for a route and logs the decision; mode decides what the caller is told.
   * `refused`: what the edge denies before the gate (images it could not pin to a
   * digest); part of the decision, so logged and counted with it.
   */
  const decide = async (
    route: string,
    mode: Mode,
    request: GateRequest,
    refused: string[] = [],
  ): Promise<{ decision: Decision; rendered: RenderedDecision }> => {
    const end = metrics.latency.startTimer({ route });
    let decision = await deps.gate.decide(request);
    end();
    if (refused.length > 0) {
      decision = {
        ...decision,
        allowed: false,
        reasons: [...refused, ...(request.artifacts.length === 0 ? [] : decision.reasons)],
      };
    }
    const rendered = render(decision, mode);
    metrics.requests.inc({ route, decision: decision.allowed ? 'allowed' : 'denied' });
    if (config.decisionLog.enabled) {
      deps.logDecision(
        decisionRecord(decision, { route, mode, answered: rendered.allowed }, config.decisionLog),
      );
    }
    return { decision, rendered };
  };

  app.post('/v1/admit', rawJson, async (req, res) => {
    if (!config.endpoints.admit.enabled)
      throw new HttpError('ENDPOINT_DISABLED', 'the admit endpoint is disabled');
    const body = asObject(parseJsonBody(req.body, limits), 'the request body');
    const request = admitRequest(body, config);
    const { rendered } = await decide('admit', config.endpoints.admit.mode, request);
    res.json(rendered);
  });

  app.use(
    uploadRoute({ config, decide, limits, tokens: deps.uploadTokens, rawJson, admitRequest }),
  );
  app.use(
    kubernetesRoutes({
      config,
      decide,
      limits,
      rawJson,
      ...(deps.resolveTag === undefined ? {} : { resolveTag: deps.resolveTag }),
    }),
  );

  app.use((_req, _res, next) => next(new HttpError('NOT_FOUND', 'no such endpoint')));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = fromExpress(err);
    const code = e instanceof BaseError ? (e.code as string) : 'INTERNAL';
    metrics.errors.inc({ code });
    if (statusOf(code) >= 500) deps.onError?.(err);
    sendError(res, e);
  });
  return app;
}

/** The generic JSON request: `{artifact, attestations: [...], context?}`. */
export function admitRequest(body: Record<string, unknown>, config: Config): GateRequest {
  const artifact = parseArtifact(body.artifact);
  const attestations = body.attestations;
  if (!Array.isArray(attestations))
    throw new HttpError('REQUEST_INVALID', 'attestations must be an array');
  if (attestations.length > config.limits.attestationsPerRequest) {
    throw new HttpError(
      'REQUEST_INVALID',
      `attestations holds ${attestations.length} documents; at most ${config.limits.attestationsPerRequest} are accepted`,
    );
  }
  return {
    kind: 'admit',
    context: parseContext(body.context),
    artifacts: [
      {
        artifact,
        // Each document is re-serialized: verification reads bytes, and the
        // cache keys by their digest.
        attestations: attestations.map((a, i) => {
          if (typeof a !== 'object' || a === null)
            throw new HttpError('REQUEST_INVALID', `attestations[${i}] must be a JSON object`);
          return { source: `attestations[${i}]`, bytes: Buffer.from(JSON.stringify(a)) };
        }),
        discover: false,
      },
    ],
  };
}

/** What the caller is told. warn: allowed, denial reasons as warnings. audit: allowed, logged only. */
export function render(decision: Decision, mode: Mode): RenderedDecision {
  const notEnforced = mode !== 'enforce' && !decision.allowed;
  return {
    allowed: decision.allowed || mode !== 'enforce',
    decisionId: decision.decisionId,
    mode,
    reasons: notEnforced ? [] : decision.reasons,
    warnings:
      notEnforced && mode === 'warn'
        ? [...decision.warnings, ...decision.reasons.map((r) => `not enforced (warn mode): ${r}`)]
        : decision.warnings,
    attestations: decision.artifacts.flatMap((a) =>
      a.attestations.map((o) => ({ artifact: a.artifact.uri ?? a.artifact.name, ...o })),
    ),
    policyRevision: decision.policyRevision,
  };
}

function fromExpress(err: unknown): unknown {
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.too.large')
    return new HttpError('BODY_TOO_LARGE', `the request body is larger than the limit`);
  if (e?.type === 'request.aborted')
    return new HttpError('REQUEST_INVALID', 'the request was aborted');
  if (
    typeof e?.status === 'number' &&
    e.status >= 400 &&
    e.status < 500 &&
    !(err instanceof HttpError)
  ) {
    return new HttpError('REQUEST_INVALID', e.message ?? 'bad request');
  }
  return err;
}
