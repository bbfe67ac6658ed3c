// npm run bench:http [-- --quick]
// `provgate serve` as a child process on loopback, driven by autocannon:
//   1. warm: an AdmissionReview (POST /v1/k8s/validate) of a Pod with 3
//      containers whose attestations are in the local attestation store,
//      verification results cached; target >= 3,000 requests/s, p99 <= 10 ms;
//   2. cold: the same with the verification cache off (cache.maxEntries: 0),
//      so every request verifies 3 Sigstore bundles; the difference to warm is
//      the per-request verification cost;
//   3. the upload hook: a 100 MB artifact and its provenance streamed as
//      multipart/form-data to POST /v1/upload, against `sha256sum` of the same
//      file in the same run (target >= 80%), and the peak RSS of the provgate
//      process (VmHWM; target <= 200 MB).
// The provenance is SLSA v0.2 as slsa-github-generator writes it, signed at
// run time by the test PKI (bench/support/provenance.ts), whose root provgate trusts.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  writeSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseConfig } from '../src/config/index.ts';
import { localStore } from '../src/discover/index.ts';
import { createGate, type ArtifactRequest, type GateRequest } from '../src/gate/index.ts';
import { decisionRecord } from '../src/http/decisionlog.ts';
import { DEFAULT_POLICY_BUNDLE } from '../src/http/server.ts';
import { createEngine, loadBundleFromPath } from '../src/policy/index.ts';
import { loadTrustMaterial } from '../src/trust/index.ts';
import { runLoad, type LoadResult } from './support/load.ts';
import { sectionPreamble } from './support/machine.ts';
import { pick, progress, QUICK } from './support/options.ts';
import { ROOT, startProvgate, stopAll, tempDir, type Child } from './support/process.ts';
import { createProvenanceSigner, POLICY_PARAMS } from './support/provenance.ts';
import { fmt, median, summarize, table, verdict } from './support/stats.ts';

const SECONDS = pick(10, 3);
const CONNECTIONS = [1, 10];
const IMAGES = 3;
const UPLOAD_BYTES = 100_000_000;
const UPLOADS = pick(5, 2);
const UPLOAD_TOKEN = 'bench-upload-token-0123456789abcdef';
const BREAKDOWN_RUNS = pick(2_000, 300);

interface Review {
  request: {
    uid: string;
    object: {
      metadata: { annotations?: Record<string, string> };
      spec: { containers: Record<string, unknown>[]; initContainers?: unknown[] };
    };
  };
}

/** kube-apiserver's AdmissionReview of a Pod (test/k8s/fixtures/pod-create.json) with these images. */
function podReview(images: string[]): string {
  const review = JSON.parse(
    readFileSync(join(ROOT, 'test/k8s/fixtures/pod-create.json'), 'utf8'),
  ) as Review;
  const spec = review.request.object.spec;
  const template = spec.containers[0]!;
  spec.containers = images.map((image, i) => ({ ...template, name: `app-${i + 1}`, image }));
  delete spec.initContainers;
  review.request.object.metadata.annotations = {
    'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'checkout', namespace: 'shop' },
      spec: { containers: images.map((image, i) => ({ name: `app-${i + 1}`, image })) },
    }),
  };
  return JSON.stringify(review);
}

function config(store: string, trustedRoot: string, extra: string[] = []): string {
  return [
    'logging: { level: warn }',
    'server: { shutdownGraceMs: 1000 }',
    `trust: { trustedRoots: [${JSON.stringify(trustedRoot)}] }`,
    `policy: { watch: false, params: ${JSON.stringify(POLICY_PARAMS)} }`,
    'discovery: { registry: { enabled: false } }',
    `endpoints: { kubernetes: { attestationStore: ${JSON.stringify(store)} }, upload: { tokens: [${UPLOAD_TOKEN}] } }`,
    ...extra,
    '',
  ].join('\n');
}

async function admitOnce(url: string, body: string): Promise<void> {
  const res = await fetch(`${url}/v1/k8s/validate`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  const answer = (await res.json()) as { response?: { allowed?: boolean; status?: unknown } };
  if (answer.response?.allowed !== true) {
    throw new Error(`provgate did not admit the benchmark Pod: ${JSON.stringify(answer)}`);
  }
}

async function load(server: Child, body: string, label: string): Promise<LoadResult[]> {
  const results: LoadResult[] = [];
  for (const connections of CONNECTIONS) {
    progress(`${label}: ${connections} connection(s), ${SECONDS} s`);
    results.push(
      await runLoad({
        url: `${server.url}/v1/k8s/validate`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections,
        durationS: SECONDS,
        serverPid: server.pid,
      }),
    );
  }
  return results;
}

function loadRow(name: string, r: LoadResult, peak: number): string[] {
  return [
    name,
    String(r.connections),
    fmt(r.perSecond, 0),
    fmt(r.latency.p50, 2),
    fmt(r.latency.p99, 2),
    fmt((r.serverCpuMsPerRequest ?? NaN) * 1000, 0),
    fmt(r.serverCores ?? NaN, 2),
    fmt(peak / 1e6, 0),
    String(r.failures),
  ];
}

/** Streams `file` and `provenance` as multipart/form-data, as `curl -F artifact=@file -F provenance=@p` does. */
async function upload(
  url: string,
  file: string,
  size: number,
  provenance: string,
): Promise<{ seconds: number; allowed: boolean; body: string }> {
  const boundary = `provgate-bench-${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="artifact"; filename="artifact.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const middle = Buffer.from(
    `\r\n--${boundary}\r\nContent-Disposition: form-data; name="provenance"; filename="artifact.bin.sigstore.json"\r\n` +
      `Content-Type: application/json\r\n\r\n${provenance}`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const t0 = performance.now();
  const req = request(`${url}/v1/upload`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${UPLOAD_TOKEN}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + size + middle.length + tail.length),
    },
    signal: AbortSignal.timeout(120_000),
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('error', reject);
      res.once('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
  });
  req.write(head);
  await pipeline(createReadStream(file), req, { end: false });
  req.write(middle);
  req.end(tail);
  const { status, body } = await response;
  const seconds = (performance.now() - t0) / 1000;
  const allowed = status === 200 && (JSON.parse(body) as { allowed?: boolean }).allowed === true;
  return { seconds, allowed, body };
}

/** Wall time of a command hashing `file` (it reads the page cache, as the upload's client does). */
function timeCommand(cmd: string, file: string, expect?: string): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, [file], { encoding: 'utf8', timeout: 120_000 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  if (expect !== undefined && !r.stdout.startsWith(expect))
    throw new Error(`${cmd} gave ${r.stdout}`);
  return seconds;
}

/** Hashing the file in this process, 64 KiB reads as a stream gives them: sha256 alone, and sha256 + sha512 as the upload hook does. */
async function hashInProcess(file: string, algorithms: string[]): Promise<number> {
  const hashes = algorithms.map((a) => createHash(a));
  const t0 = performance.now();
  for await (const chunk of createReadStream(file)) {
    for (const h of hashes) h.update(chunk as Buffer);
  }
  for (const h of hashes) h.digest();
  return (performance.now() - t0) / 1000;
}

/**
 * The warm request's parts, in this process, wired as startServer wires them
 * (same configuration): what the gate costs without HTTP, and the decision log line.
 */
async function inProcessBreakdown(yaml: string, images: string[]): Promise<string[][]> {
  const config = parseConfig(yaml);
  const trust = loadTrustMaterial({
    trustedRootFiles: config.trust.trustedRoots,
    includeEmbedded: config.trust.includeEmbedded,
  });
  const engine = createEngine(
    await loadBundleFromPath(DEFAULT_POLICY_BUNDLE, { params: config.policy.params }),
    { limits: { timeBudgetMs: config.policy.evaluationBudgetMs } },
  );
  const store = localStore(config.endpoints.kubernetes.attestationStore!);
  const gate = createGate({
    trust: () => trust,
    policy: () => ({
      revision: engine.revision,
      evaluate: (input, options) => engine.evaluate(input, options),
    }),
    discovery: store,
    cache: config.cache,
    deadlineMs: config.server.deadlineMs,
    limits: {
      jsonDepth: config.limits.jsonDepth,
      attestationsPerRequest: config.limits.attestationsPerRequest,
      attestationBytes: config.limits.bodyBytes,
    },
  });
  // As the Kubernetes route builds it.
  const artifacts: ArtifactRequest[] = images.map((image) => {
    const [name, digest] = image.split('@') as [string, string];
    return {
      artifact: { name, uri: image, digests: { sha256: digest.slice('sha256:'.length) } },
      attestations: [],
      discover: true,
    };
  });
  const request: GateRequest = {
    kind: 'kubernetes',
    context: { namespace: 'shop', operation: 'CREATE', images },
    artifacts,
  };
  const decision = await gate.decide(request);
  if (!decision.allowed) throw new Error(`in-process gate denied: ${decision.reasons.join('; ')}`);
  const ctx = { route: 'kubernetes', mode: 'enforce', answered: true };
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const measure = async (fn: () => unknown): Promise<{ cpuUs: number; p50Us: number }> => {
    for (let i = 0; i < BREAKDOWN_RUNS / 5; i++) await fn();
    const times: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < BREAKDOWN_RUNS; i++) {
      const t0 = performance.now();
      await fn();
      times.push((performance.now() - t0) * 1000);
    }
    const cpu = process.cpuUsage(cpu0);
    return { cpuUs: (cpu.user + cpu.system) / BREAKDOWN_RUNS, p50Us: median(times) };
  };
  const signal = AbortSignal.timeout(600_000);
  const steps: [string, () => unknown][] = [
    [
      `local store: read the ${IMAGES} images' folders (readdir, stat, readFile)`,
      () => Promise.all(artifacts.map((a) => store.discover(a.artifact, signal))),
    ],
    [
      `${IMAGES} x engine.evaluate(policy input)`,
      () => {
        for (const input of decision.inputs) engine.evaluate(input, { nowNs });
      },
    ],
    [
      'gate.decide (store, cached verification, policy inputs, evaluations)',
      () => gate.decide(request),
    ],
    [
      'decision log: decisionRecord + JSON.stringify (winston formats it again)',
      () => JSON.stringify(decisionRecord(decision, ctx, config.decisionLog)),
    ],
  ];
  const rows: string[][] = [];
  for (const [name, fn] of steps) {
    const m = await measure(fn);
    rows.push([name, fmt(m.cpuUs, 0), fmt(m.p50Us, 0)]);
  }
  return rows;
}

async function main(): Promise<void> {
  const out: string[] = [];
  out.push('## HTTP gate (`npm run bench:http`)', '', sectionPreamble(), '');
  const dir = tempDir('http');
  progress('signing provenance with the test PKI');
  const signer = await createProvenanceSigner(dir);

  // The attestation store: sha256-<hex>/ per image, one Sigstore bundle each.
  const store = join(dir, 'store');
  const images: string[] = [];
  for (let i = 1; i <= IMAGES; i++) {
    const name = `registry.example/bench/app-${i}`;
    const hex = createHash('sha256').update(`provgate bench image ${i}`).digest('hex');
    mkdirSync(join(store, `sha256-${hex}`), { recursive: true });
    writeFileSync(
      join(store, `sha256-${hex}`, 'provenance.sigstore.json'),
      JSON.stringify(await signer.sign(name, hex)),
    );
    images.push(`${name}@sha256:${hex}`);
  }
  const review = podReview(images);

  // 1. warm
  progress('warm: provgate with the verification cache on');
  const warm = await startProvgate(config(store, signer.trustedRootFile));
  await admitOnce(warm.url, review);
  const warmResults = await load(warm, review, 'warm');
  const warmPeak = warm.memory().peak;
  await warm.stop();

  progress(`warm, in-process breakdown: ${BREAKDOWN_RUNS} runs per step`);
  const breakdown = await inProcessBreakdown(config(store, signer.trustedRootFile), images);

  // 2. cold
  progress('cold: provgate with cache.maxEntries 0');
  const cold = await startProvgate(
    config(store, signer.trustedRootFile, ['cache: { maxEntries: 0 }']),
  );
  await admitOnce(cold.url, review);
  const coldResults = await load(cold, review, 'cold');
  const coldPeak = cold.memory().peak;
  await cold.stop();

  const w1 = warmResults[0]!;
  const c1 = coldResults[0]!;
  const verifyCpuMs = (c1.serverCpuMsPerRequest ?? NaN) - (w1.serverCpuMsPerRequest ?? NaN);
  const verifyWallMs = c1.latency.p50 - w1.latency.p50;
  out.push(
    `### Kubernetes webhook: AdmissionReview of a Pod with ${IMAGES} containers (POST /v1/k8s/validate, ${fmt(review.length / 1024, 1)} KiB), ${SECONDS} s per row`,
    '',
    'Attestations from the local store (`endpoints.kubernetes.attestationStore`, one keyless Sigstore bundle per image: DSSE, SLSA v0.2, Rekor v1 entry with proof and promise, SCT); registry discovery off; decision log to /dev/null. Target (warm): >= 3,000 requests/s with p99 <= 10 ms on 2 cores.',
    '',
    table(
      [
        'run',
        'connections:',
        'requests/s:',
        'p50 ms:',
        'p99 ms:',
        'server CPU µs/request:',
        'server cores used:',
        'server peak RSS MB:',
        'failures:',
      ],
      [
        ...warmResults.map((r) => loadRow('warm (verification cached)', r, warmPeak)),
        ...coldResults.map((r) => loadRow('cold (cache.maxEntries: 0)', r, coldPeak)),
      ],
    ),
    '',
    `Verification cost per request (cold - warm, 1 connection): ${fmt(verifyCpuMs, 2)} ms of server CPU, ${fmt(verifyWallMs, 2)} ms of median latency; per attestation ${fmt(verifyCpuMs / IMAGES, 2)} ms CPU.`,
    '',
    `Where a warm request's time goes: its parts in the benchmark process, wired as \`startServer\` wires them (${BREAKDOWN_RUNS.toLocaleString('en-US')} runs each), beside the server's CPU time per request at 1 connection (${fmt((w1.serverCpuMsPerRequest ?? NaN) * 1000, 0)} µs, all threads). What the parts leave is HTTP, Express, AdmissionReview parsing and response, metrics and winston.`,
    '',
    table(['part of a warm request', 'CPU µs:', 'p50 µs:'], breakdown),
    '',
  );

  // 3. upload hook
  progress(`upload: writing a ${UPLOAD_BYTES / 1e6} MB artifact`);
  const file = join(dir, 'artifact.bin');
  const sha256 = createHash('sha256');
  const fd = openSync(file, 'w');
  for (let left = UPLOAD_BYTES; left > 0; left -= 1 << 20) {
    const chunk = randomBytes(Math.min(left, 1 << 20));
    sha256.update(chunk);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  const hex = sha256.digest('hex');
  const provenance = JSON.stringify(await signer.sign('artifact.bin', hex));

  const server = await startProvgate(config(store, signer.trustedRootFile));
  const atStart = server.memory();
  let maxRss = atStart.rss;
  const sampler = setInterval(() => {
    maxRss = Math.max(maxRss, server.memory().rss);
  }, 20);
  const uploadSeconds: number[] = [];
  const sumSeconds: number[] = [];
  const sha512Seconds: number[] = [];
  try {
    // Alternate, so that both see the same machine load.
    for (let i = 0; i < UPLOADS; i++) {
      progress(`upload ${i + 1}/${UPLOADS}`);
      const u = await upload(server.url, file, UPLOAD_BYTES, provenance);
      if (!u.allowed) throw new Error(`the upload was not allowed: ${u.body}`);
      uploadSeconds.push(u.seconds);
      sumSeconds.push(timeCommand('sha256sum', file, hex));
      sha512Seconds.push(timeCommand('sha512sum', file));
    }
  } finally {
    clearInterval(sampler);
  }
  const atEnd = server.memory();
  await server.stop();
  const node256 = [];
  const nodeBoth = [];
  for (let i = 0; i < UPLOADS; i++) {
    node256.push(await hashInProcess(file, ['sha256']));
    nodeBoth.push(await hashInProcess(file, ['sha256', 'sha512']));
  }
  const mbps = (s: number[]) => UPLOAD_BYTES / 1e6 / median(s);
  const up = mbps(uploadSeconds);
  const sum = mbps(sumSeconds);
  const upStats = summarize(uploadSeconds.map((s) => UPLOAD_BYTES / 1e6 / s));
  out.push(
    `### Upload hook: a ${UPLOAD_BYTES / 1e6} MB artifact + its provenance, multipart/form-data (POST /v1/upload), ${UPLOADS} times`,
    '',
    'The file is in the page cache for every reader. Target: upload >= 80% of sha256sum; peak RSS <= 200 MB.',
    '',
    table(
      ['what', 'MB/s (median):', 'vs sha256sum:'],
      [
        [
          `provgate upload (streamed, sha256 + sha512 on the fly, decision; min-max ${fmt(upStats.min, 0)}-${fmt(upStats.max, 0)})`,
          fmt(up, 0),
          `${fmt((100 * up) / sum, 0)}%`,
        ],
        ['`sha256sum` of the same file', fmt(sum, 0), '100%'],
        [
          '`sha512sum` of the same file',
          fmt(mbps(sha512Seconds), 0),
          `${fmt((100 * mbps(sha512Seconds)) / sum, 0)}%`,
        ],
        [
          'Node crypto in this process: sha256 only',
          fmt(mbps(node256), 0),
          `${fmt((100 * mbps(node256)) / sum, 0)}%`,
        ],
        [
          'Node crypto in this process: sha256 + sha512 per chunk (what the hook computes)',
          fmt(mbps(nodeBoth), 0),
          `${fmt((100 * mbps(nodeBoth)) / sum, 0)}%`,
        ],
      ],
    ),
    '',
    table(
      ['provgate process memory', 'MB:'],
      [
        ['RSS when ready', fmt(atStart.rss / 1e6, 0)],
        ['highest RSS sampled every 20 ms during the uploads', fmt(maxRss / 1e6, 0)],
        ['peak RSS since start (VmHWM) after the uploads', fmt(atEnd.peak / 1e6, 0)],
      ],
    ),
    '',
  );
  const w10 = warmResults[warmResults.length - 1]!;
  out.push(
    '### Targets',
    '',
    table(
      ['target', 'measured', 'verdict'],
      [
        [
          `warm: >= 3,000 requests/s with p99 <= 10 ms (${w10.connections} connections)`,
          `${fmt(w10.perSecond, 0)} requests/s, p99 ${fmt(w10.latency.p99, 2)} ms`,
          verdict(w10.perSecond >= 3000 && w10.latency.p99 <= 10),
        ],
        [
          'upload >= 80% of sha256sum',
          `${fmt((100 * up) / sum, 0)}% (${fmt(up, 0)} vs ${fmt(sum, 0)} MB/s)`,
          verdict(up >= 0.8 * sum),
        ],
        [
          'upload: peak RSS <= 200 MB',
          `${fmt(atEnd.peak / 1e6, 0)} MB`,
          verdict(atEnd.peak <= 200e6),
        ],
      ],
    ),
    '',
  );
  if (QUICK) out.push('_Quick run (--quick): figures only prove the script works._', '');
  process.stdout.write(out.join('\n') + '\n');
}

try {
  await main();
} finally {
  await stopAll();
}
