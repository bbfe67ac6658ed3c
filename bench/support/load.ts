// Load over loopback with autocannon, bounded in time and in count. Latencies
// are taken from autocannon's per-response times (fractional milliseconds),
// not its integer-millisecond histogram, so sub-millisecond medians are kept.
// When the server's pid is known, its CPU time per request is read from /proc:
// on a busy machine that figure moves much less than requests per second.
import autocannon from 'autocannon';
import { cpuMsOf } from './process.ts';
import { summarize, type Summary } from './stats.ts';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  connections: number;
  durationS: number;
  /** Upper bound on requests (default: 2,000,000). */
  maxRequests?: number;
  /** The server process, for CPU time per request. */
  serverPid?: number;
}

export interface LoadResult {
  connections: number;
  /** Responses received. */
  requests: number;
  /** Responses that were not 2xx, plus errors and timeouts. */
  failures: number;
  seconds: number;
  perSecond: number;
  /** Milliseconds. */
  latency: Summary;
  /** Server CPU milliseconds per response, and its CPU use over the run (1 = one core). */
  serverCpuMsPerRequest?: number;
  serverCores?: number;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const cpu0 = o.serverPid === undefined ? 0 : cpuMsOf(o.serverPid);
  const t0 = performance.now();
  const instance = autocannon({
    url: o.url,
    method: o.method ?? 'GET',
    ...(o.headers === undefined ? {} : { headers: o.headers }),
    ...(o.body === undefined ? {} : { body: o.body }),
    connections: o.connections,
    duration: o.durationS,
    maxOverallRequests: Math.max(o.connections, o.maxRequests ?? 2_000_000),
    timeout: 10,
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  // autocannon stops itself at the duration; this is the backstop.
  const watchdog = setTimeout(() => instance.stop(), (o.durationS + 15) * 1000);
  let result: autocannon.Result;
  try {
    result = await instance;
  } finally {
    clearTimeout(watchdog);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = o.serverPid === undefined ? undefined : cpuMsOf(o.serverPid) - cpu0;
  const requests = latencies.length + result.non2xx;
  return {
    connections: o.connections,
    requests,
    failures: result.non2xx + result.errors + result.timeouts,
    seconds,
    perSecond: latencies.length / seconds,
    latency: summarize(latencies),
    ...(cpuMs === undefined || requests === 0
      ? {}
      : { serverCpuMsPerRequest: cpuMs / requests, serverCores: cpuMs / 1000 / seconds }),
  };
}
