// Prometheus metrics, on a registry of our own (no process-global state).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CacheStats } from '../gate/index.ts';

export interface Metrics {
  registry: Registry;
  requests: Counter<'route' | 'decision'>;
  latency: Histogram<'route'>;
  errors: Counter<'code'>;
}

export function createMetrics(sources: {
  cache: () => CacheStats;
  policyRevision: () => string;
  policyReloads: () => { ok: number; failed: number };
}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'provgate_' });
  const requests = new Counter({
    name: 'provgate_requests_total',
    help: 'Requests by route and decision (allowed, denied, error).',
    labelNames: ['route', 'decision'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'provgate_request_duration_seconds',
    help: 'Request latency by route.',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'provgate_errors_total',
    help: 'Malformed or failed requests by error code.',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const cacheMetric = (name: string, help: string, pick: (s: CacheStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(sources.cache()));
      },
    });
  cacheMetric(
    'provgate_verification_cache_hits',
    'Verification cache hits since start.',
    (s) => s.hits,
  );
  cacheMetric(
    'provgate_verification_cache_misses',
    'Verification cache misses since start.',
    (s) => s.misses,
  );
  cacheMetric(
    'provgate_verification_inflight_collapsed',
    'Verifications shared with identical work in flight.',
    (s) => s.collapsed,
  );
  cacheMetric(
    'provgate_verification_cache_entries',
    'Verification results cached now.',
    (s) => s.size,
  );
  new Gauge({
    name: 'provgate_policy_info',
    help: 'The active policy bundle revision (value 1).',
    labelNames: ['revision'] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.set({ revision: sources.policyRevision() }, 1);
    },
  });
  new Gauge({
    name: 'provgate_policy_reloads',
    help: 'Policy bundle reloads since start, by outcome (failed: not activated; the last good bundle kept serving).',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      const r = sources.policyReloads();
      this.set({ outcome: 'ok' }, r.ok);
      this.set({ outcome: 'failed' }, r.failed);
    },
  });
  return { registry, requests, latency, errors };
}
