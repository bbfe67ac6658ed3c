// One factory wires provgate together: trust material, the policy engine (and
// its watcher), discovery, the gate, metrics, the decision log and the HTTP
// app; then listens. Everything it reads is read here, at start-up.
import { readFileSync } from 'node:fs';
import winston from 'winston';
import type { Config } from '../config/index.ts';
import {
  createOciDiscovery,
  firstFound,
  localStore,
  type AttestationDiscovery,
  type OciDiscovery,
} from '../discover/index.ts';
import { createGate, createVerifierPool, type PolicyEvaluator } from '../gate/index.ts';
import {
  createEngine,
  DEFAULT_POLICY_BUNDLE,
  loadBundleFromPath,
  watchBundle,
  type BundleWatcher,
  type LoadOptions,
  type PolicyEngine,
} from '../policy/index.ts';
import { buildTrustMaterial, loadTrustInputs } from '../trust/index.ts';
import { createApp } from './app.ts';
import { watchFiles, type FileWatch } from './filewatch.ts';
import { listen, type Listening } from './listen.ts';
import { createMetrics } from './metrics.ts';

export interface Server extends Listening {
  engine: PolicyEngine;
  close(graceMs?: number): Promise<void>;
}

export function createLogger(level: Config['logging']['level']): winston.Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

/** Warnings a user must see at start-up: settings that accept more than they may think. */
export function startupWarnings(config: Config): string[] {
  const warnings: string[] = [];
  const sources = (config.policy.params as { allowed_sources?: unknown }).allowed_sources;
  if (!Array.isArray(sources) || sources.length === 0) {
    warnings.push(
      'accepting any source repository: no policy.params.allowed_sources are configured; every decision allowed that way carries this warning',
    );
  }
  const up = config.endpoints.upload;
  if (
    up.enabled &&
    up.tokens.length === 0 &&
    up.tokensFile === undefined &&
    !up.requireClientCertificate
  ) {
    warnings.push(
      'the upload hook accepts unauthenticated requests: configure endpoints.upload.tokensFile or client certificates',
    );
  }
  if (
    config.server.tls === undefined &&
    !['127.0.0.1', '::1', 'localhost'].includes(config.server.host)
  ) {
    warnings.push(
      `serving plain HTTP on ${config.server.host}: configure server.tls (Kubernetes requires HTTPS for webhooks)`,
    );
  }
  return warnings;
}

function registryDiscovery(config: Config): OciDiscovery | undefined {
  const r = config.discovery.registry;
  if (!r.enabled) return undefined;
  return createOciDiscovery({
    ...(r.allowedRegistries.length === 0 ? {} : { allowedRegistries: r.allowedRegistries }),
    insecureRegistries: r.insecureRegistries,
    ...(r.dockerConfig === undefined ? {} : { dockerConfigPath: r.dockerConfig }),
    registries: Object.fromEntries(
      Object.entries(r.registries).map(([host, s]) => [
        host,
        {
          ...(s.caFile === undefined ? {} : { ca: readFileSync(s.caFile, 'utf8') }),
          ...(s.mirror === undefined ? {} : { mirror: s.mirror }),
        },
      ]),
    ),
    timeouts: { requestMs: r.requestTimeoutMs },
    retries: { max: r.retries },
    cache: { tagTtlMs: r.tagTtlSeconds * 1000, referrersTtlMs: r.referrersTtlSeconds * 1000 },
    userAgent: 'provgate',
  });
}

export async function startServer(
  config: Config,
  logger = createLogger(config.logging.level),
): Promise<Server> {
  const trustInputs = loadTrustInputs({
    trustedRootFiles: config.trust.trustedRoots,
    includeEmbedded: config.trust.includeEmbedded,
    keyFiles: config.trust.keys,
    ...(config.trust.npmKeys === undefined ? {} : { npmKeysFiles: config.trust.npmKeys }),
  });
  const trust = buildTrustMaterial(trustInputs);
  const pool =
    config.verification.workers > 0
      ? createVerifierPool(config.verification.workers, trustInputs)
      : undefined;

  const bundlePath = config.policy.bundle ?? DEFAULT_POLICY_BUNDLE;
  const load: LoadOptions = {
    params: config.policy.params,
    ...(config.policy.signingKeys.length === 0
      ? {}
      : {
          verification: {
            keys: Object.fromEntries(
              config.policy.signingKeys.map((k) => [
                k.keyId,
                { key: readFileSync(k.path, 'utf8'), algorithm: k.algorithm },
              ]),
            ),
          },
        }),
  };
  const engine = createEngine(await loadBundleFromPath(bundlePath, load), {
    limits: { timeBudgetMs: config.policy.evaluationBudgetMs },
  });
  logger.info('policy loaded', {
    event: 'policy.loaded',
    path: bundlePath,
    revision: engine.revision,
    digest: engine.bundleDigest,
  });

  let watcher: BundleWatcher | undefined;
  if (config.policy.watch) {
    watcher = watchBundle(engine, bundlePath, {
      load,
      // Failures are counted by the engine (provgate_policy_reloads{outcome="failed"}).
      logger: (e) => logger.log(e.level, e.message, { ...e }),
    });
  }

  const policy: PolicyEvaluator = {
    get revision() {
      return engine.revision;
    },
    evaluate: (input, options) => engine.evaluate(input, options),
  };
  const registry = registryDiscovery(config);
  const discoveries: AttestationDiscovery[] = [];
  const store = config.endpoints.kubernetes.attestationStore;
  if (store !== undefined) discoveries.push(localStore(store));
  if (registry !== undefined) discoveries.push(registry);
  const gate = createGate({
    trust: () => trust,
    policy: () => policy,
    ...(discoveries.length === 0 ? {} : { discovery: firstFound(discoveries) }),
    ...(pool === undefined ? {} : { verifier: (check) => pool.verify(check) }),
    cache: config.cache,
    deadlineMs: config.server.deadlineMs,
    limits: {
      jsonDepth: config.limits.jsonDepth,
      attestationsPerRequest: config.limits.attestationsPerRequest,
      attestationBytes: config.limits.bodyBytes,
    },
  });

  const metrics = createMetrics({
    cache: () => gate.cacheStats,
    policyRevision: () => engine.revision,
    policyReloads: () => {
      const s = engine.stats();
      return { ok: s.reloads, failed: s.reloadFailures };
    },
  });

  // Upload tokens: from the config and from a file (a mounted Secret), re-read on change.
  let fileTokens: string[] = [];
  const tokensFile = config.endpoints.upload.tokensFile;
  let tokenWatch: FileWatch | undefined;
  if (tokensFile !== undefined) {
    const read = () => {
      fileTokens = readFileSync(tokensFile, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.length > 0 && !l.startsWith('#'));
    };
    read();
    tokenWatch = watchFiles([tokensFile], () => {
      try {
        read();
        logger.info('upload tokens re-read', { event: 'tokens.reloaded', path: tokensFile });
      } catch (err) {
        logger.error('cannot re-read the upload tokens file; keeping the previous tokens', {
          path: tokensFile,
          error: (err as Error).message,
        });
      }
    });
  }

  const decisionLogger = winston.createLogger({
    level: 'info',
    format: winston.format.json(),
    transports: [new winston.transports.Console()],
  });
  const app = createApp({
    gate,
    config,
    metrics,
    logDecision: (record) => decisionLogger.info('decision', record),
    readiness: () => ({ ready: true, reasons: [] }),
    uploadTokens: () => [...config.endpoints.upload.tokens, ...fileTokens],
    ...(registry === undefined
      ? {}
      : { resolveTag: (ref, signal) => registry.resolveTag(ref, signal) }),
    onError: (err) =>
      logger.error('request failed', { error: err instanceof Error ? err.stack : String(err) }),
  });

  for (const w of startupWarnings(config)) logger.warn(w, { event: 'startup.warning' });
  const listening = await listen(app, config, {
    onTlsReload: (ok, error) =>
      ok
        ? logger.info('TLS certificate reloaded', { event: 'tls.reloaded' })
        : logger.error('TLS certificate reload failed; serving the previous one', {
            event: 'tls.reload_failed',
            error: error?.message,
          }),
  });
  logger.info(`provgate listening on ${listening.url}`, {
    event: 'server.listening',
    url: listening.url,
    policyRevision: engine.revision,
    trustRevision: trust.revision,
  });
  return {
    ...listening,
    engine,
    async close(graceMs?: number) {
      watcher?.close();
      tokenWatch?.close();
      // In-flight requests finish first: they may still need the registry and the workers.
      await listening.close(graceMs);
      registry?.close();
      await pool?.close();
    },
  };
}

/** Where the default policy bundle is (re-exported for callers that start the server). */
export { DEFAULT_POLICY_BUNDLE } from '../policy/index.ts';
