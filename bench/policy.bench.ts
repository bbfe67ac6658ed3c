// npm run bench:policy [-- --quick]
// The default policy (policies/bundle.tar.gz) on a realistic input, the policy
// input provgate builds for the real slsa-github-generator sample
// (policies/examples/generic-v2.1.0-push-v13.0.30.json):
//   1. in-process, engine.evaluate with the input object (what the gate does)
//      and with a PreparedInput (serialized once), per-call times;
//   2. where the time goes: serialization, opa-wasm's own evaluate, and the
//      wasm JSON parser alone, with and without the 10 KB SLSA predicate;
//   3. every example input;
//   4. RSS before and after 1,000,000 in-process evaluations;
//   5. over loopback with one load generator (autocannon): `opa run --server`
//      on the same Rego (policies/src, same parameters), POST
//      /v1/data/provgate/decision, and provgate's own HTTP path, POST /v1/admit
//      with the sample's real Sigstore bundle (verification cached after the
//      first request, so what is left is HTTP, policy input and evaluation).
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { createEngine, loadBundleFromPath, type PolicyEngine } from '../src/policy/index.ts';
import { parseConfig } from '../src/config/index.ts';
import { DEFAULT_POLICY_BUNDLE } from '../src/http/server.ts';
import { runLoad, type LoadResult } from './support/load.ts';
import { sectionPreamble } from './support/machine.ts';
import { pick, progress, QUICK } from './support/options.ts';
import { opaVersion, ROOT, startOpa, startProvgate, stopAll, tempDir } from './support/process.ts';
import { EXAMPLE, POLICY_PARAMS } from './support/provenance.ts';
import { fmt, summarize, table, verdict, type Summary } from './support/stats.ts';

const WARMUP = pick(5_000, 1_000);
const RUNS = pick(50_000, 5_000);
const STEP_RUNS = pick(20_000, 2_000);
const EXAMPLE_RUNS = pick(2_000, 200);
const RSS_RUNS = pick(1_000_000, 50_000);
const HTTP_SECONDS = pick(10, 3);
const HTTP_CONNECTIONS = [1, 10];
const NOW_NS = BigInt(Date.parse('2026-01-01T00:00:00Z')) * 1_000_000n;
const SAMPLE_BUNDLE = join(
  ROOT,
  'test/fixtures/slsa-github-generator/generic-v2.1.0/binary-linux-amd64-push-v13.0.30.intoto.jsonl',
);

interface PolicyInputJson {
  artifact: { name: string; digests: { sha256: string } };
  attestations: { statement?: { predicate?: unknown } }[];
}

// global.gc without --expose-gc on the command line (npm scripts pass no flags).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Per-call times in microseconds, after a warm-up. */
function time(fn: () => unknown, runs: number, warmup = WARMUP): Float64Array {
  for (let i = 0; i < warmup; i++) fn();
  const out = new Float64Array(runs);
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    out[i] = (performance.now() - t0) * 1000;
  }
  return out;
}

function withoutPredicate(input: PolicyInputJson): PolicyInputJson {
  const copy = structuredClone(input);
  for (const a of copy.attestations) {
    if (a.statement !== undefined) delete a.statement.predicate;
  }
  return copy;
}

function decisionOf(d: { allow: boolean; deny: readonly string[]; warn: readonly string[] }) {
  return JSON.stringify({ allow: d.allow, deny: d.deny, warn: d.warn });
}

function serializedBytes(input: unknown): number {
  return Buffer.byteLength(JSON.stringify(input));
}

const rowOf = (name: string, s: Summary, extra: string[] = []): string[] => [
  name,
  ...extra,
  fmt(1e6 / s.mean, 0),
  fmt(s.p50, 1),
  fmt(s.p99, 1),
];

/** opa-wasm itself on the same compiled module and data, and its JSON parser alone. */
async function rawOpaWasm(engine: PolicyEngine) {
  const policy = await loadPolicy(engine.bundle.module, { initial: 16, maximum: 1024 });
  policy.setData(engine.bundle.data);
  const inside = policy as unknown as {
    mem: { buffer: ArrayBuffer; grow(pages: number): void };
    dataHeapPtr: number;
    wasmInstance: {
      exports: {
        opa_json_parse(addr: number, len: number): number;
        opa_heap_ptr_set(addr: number): void;
      };
    };
  };
  return {
    evaluate: (bytes: ArrayBuffer) => policy.evaluate(bytes, 'provgate/decision') as unknown,
    /** Copies the serialized input into wasm memory and parses it, as opa_eval does first. */
    parse(bytes: ArrayBuffer): void {
      const addr = inside.dataHeapPtr;
      const need = addr + 2 * bytes.byteLength + 65536 - inside.mem.buffer.byteLength;
      if (need > 0) inside.mem.grow(Math.ceil(need / 65536));
      new Uint8Array(inside.mem.buffer).set(new Uint8Array(bytes), addr);
      const ex = inside.wasmInstance.exports;
      ex.opa_heap_ptr_set(addr + bytes.byteLength);
      if (ex.opa_json_parse(addr, bytes.byteLength) === 0) throw new Error('opa_json_parse failed');
      ex.opa_heap_ptr_set(addr);
    },
  };
}

function failureCounts(before: Record<string, number>, after: Record<string, number>): string {
  const counts = Object.entries(after)
    .map(([code, n]) => [code, n - (before[code] ?? 0)] as const)
    .filter(([, n]) => n > 0);
  return counts.length === 0 ? 'none' : counts.map(([code, n]) => `${code}: ${n}`).join(', ');
}

function mib(bytes: number): string {
  return `${fmt(bytes / 2 ** 20, 1)} MiB`;
}

/** A bundle directory for `opa run`: the policy's Rego (no tests) and data.json with the same parameters. */
function opaBundleDir(): string {
  const src = join(ROOT, 'policies/src');
  const dir = tempDir('opa');
  cpSync(src, dir, { recursive: true });
  for (const f of readdirSync(join(dir, 'provgate'))) {
    if (f.endsWith('_test.rego')) rmSync(join(dir, 'provgate', f));
  }
  const data = JSON.parse(readFileSync(join(src, 'data.json'), 'utf8')) as {
    provgate: { params: Record<string, unknown> };
  };
  data.provgate.params = { ...data.provgate.params, ...POLICY_PARAMS };
  writeFileSync(join(dir, 'data.json'), JSON.stringify(data));
  return dir;
}

function loadRow(name: string, r: LoadResult): string[] {
  return [
    name,
    String(r.connections),
    fmt(r.perSecond, 0),
    fmt(r.latency.p50, 2),
    fmt(r.latency.p99, 2),
    r.serverCpuMsPerRequest === undefined ? 'n/a' : fmt(r.serverCpuMsPerRequest * 1000, 0),
    r.serverCores === undefined ? 'n/a' : fmt(r.serverCores, 2),
    String(r.failures),
  ];
}

async function overLoopback(
  input: PolicyInputJson,
  expected: string,
): Promise<{ rows: string[][]; notes: string[] }> {
  const rows: string[][] = [];
  const notes: string[] = [];

  progress('opa run --server');
  const opa = await startOpa(opaBundleDir());
  const opaUrl = `${opa.url}/v1/data/provgate/decision`;
  const opaBody = JSON.stringify({ input });
  const opaAnswer = (await (
    await fetch(opaUrl, {
      method: 'POST',
      body: opaBody,
      headers: { 'content-type': 'application/json' },
    })
  ).json()) as { result?: { allow: boolean; deny: string[]; warn: string[] } };
  if (opaAnswer.result === undefined || decisionOf(opaAnswer.result) !== expected) {
    throw new Error(
      `OPA decides differently from the wasm bundle: ${JSON.stringify(opaAnswer)} vs ${expected}`,
    );
  }
  for (const connections of HTTP_CONNECTIONS) {
    progress(`opa: ${connections} connection(s), ${HTTP_SECONDS} s`);
    const r = await runLoad({
      url: opaUrl,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: opaBody,
      connections,
      durationS: HTTP_SECONDS,
      serverPid: opa.pid,
    });
    rows.push(loadRow('OPA server (Go topdown evaluator)', r));
  }
  await opa.stop();

  progress('provgate serve');
  const provgate = await startProvgate(
    [
      'logging: { level: warn }',
      'server: { shutdownGraceMs: 1000 }',
      `policy: { watch: false, params: ${JSON.stringify(POLICY_PARAMS)} }`,
      'discovery: { registry: { enabled: false } }',
      '',
    ].join('\n'),
  );
  const bundle = JSON.parse(readFileSync(SAMPLE_BUNDLE, 'utf8').trim()) as unknown;
  const admitBody = JSON.stringify({
    artifact: { name: input.artifact.name, digest: { sha256: input.artifact.digests.sha256 } },
    attestations: [bundle],
  });
  const admitUrl = `${provgate.url}/v1/admit`;
  const answer = (await (
    await fetch(admitUrl, {
      method: 'POST',
      body: admitBody,
      headers: { 'content-type': 'application/json' },
    })
  ).json()) as { allowed?: boolean; reasons?: string[] };
  if (answer.allowed !== true) {
    throw new Error(`provgate did not allow the sample: ${JSON.stringify(answer)}`);
  }
  for (const connections of HTTP_CONNECTIONS) {
    progress(`provgate /v1/admit: ${connections} connection(s), ${HTTP_SECONDS} s`);
    const r = await runLoad({
      url: admitUrl,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: admitBody,
      connections,
      durationS: HTTP_SECONDS,
      serverPid: provgate.pid,
    });
    rows.push(loadRow('provgate POST /v1/admit (verification cached)', r));
  }
  await provgate.stop();
  notes.push(
    `OPA: \`opa run --server\` (OPA ${await opaVersion()}) on policies/src without its tests, data.json with the same parameters; request body ${fmt(opaBody.length / 1024, 1)} KiB (\`{"input": ...}\`).`,
    `provgate: \`provgate serve\`, decision log to /dev/null, request body ${fmt(admitBody.length / 1024, 1)} KiB (the real Sigstore bundle); the bundle is verified once and then served from the verification cache, so a request is JSON parsing, a cache lookup by digest, the policy input, one evaluation and the decision log line.`,
  );
  return { rows, notes };
}

async function main(): Promise<void> {
  const out: string[] = [];
  out.push('## Policy evaluation (`npm run bench:policy`)', '', sectionPreamble(), '');

  // The time budget provgate serve gives an evaluation by default.
  const budgetMs = parseConfig('').policy.evaluationBudgetMs;
  const engine = createEngine(
    await loadBundleFromPath(DEFAULT_POLICY_BUNDLE, { params: POLICY_PARAMS }),
    { limits: { timeBudgetMs: budgetMs } },
  );
  const input = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as PolicyInputJson;
  const small = withoutPredicate(input);
  const opts = { nowNs: NOW_NS };
  const expected = decisionOf(engine.evaluate(input, opts));
  const smallDecision = decisionOf(engine.evaluate(small, opts));
  const prepared = engine.prepareInput(input);
  const preparedSmall = engine.prepareInput(small);
  const raw = await rawOpaWasm(engine);

  // 1 + 2: the gate's call, the prepared call, and the steps inside.
  progress(`in-process: ${RUNS} evaluations per variant`);
  const full = {
    object: summarize(time(() => engine.evaluate(input, opts), RUNS)),
    prepared: summarize(time(() => engine.evaluate(prepared, opts), RUNS)),
  };
  const stripped = {
    object: summarize(time(() => engine.evaluate(small, opts), RUNS)),
    prepared: summarize(time(() => engine.evaluate(preparedSmall, opts), RUNS)),
  };
  out.push(
    `### In-process, \`engine.evaluate\` (one instance, one thread; ${RUNS.toLocaleString('en-US')} calls each after ${WARMUP.toLocaleString('en-US')} warm-up)`,
    '',
    `Input: \`${EXAMPLE.slice(ROOT.length)}\`, ${fmt(serializedBytes(input) / 1024, 1)} KiB serialized, of which ${fmt((serializedBytes(input) - serializedBytes(small)) / 1024, 1)} KiB is the SLSA predicate (\`statement.predicate\`). Decision: \`${expected}\`; without the predicate: ${smallDecision === expected ? 'the same' : `\`${smallDecision}\` (differs)`}. Target: median <= 50 µs.`,
    '',
    table(
      ['input', 'call', 'evaluations/s:', 'p50 µs:', 'p99 µs:'],
      [
        rowOf('full', full.object, ['evaluate(object)']),
        rowOf('full', full.prepared, ['evaluate(prepareInput(object)), prepared once']),
        rowOf('predicate removed', stripped.object, ['evaluate(object)']),
        rowOf('predicate removed', stripped.prepared, ['evaluate(prepared)']),
      ],
    ),
    '',
  );

  progress(`where the time goes: ${STEP_RUNS} calls per step`);
  const steps: [string, () => unknown, () => unknown][] = [
    ['JSON.stringify(input)', () => JSON.stringify(input), () => JSON.stringify(small)],
    [
      'engine.prepareInput (stringify + UTF-8 encode into a new ArrayBuffer)',
      () => engine.prepareInput(input),
      () => engine.prepareInput(small),
    ],
    [
      'opa-wasm: copy into wasm memory + opa_json_parse, nothing else',
      () => raw.parse(prepared.bytes),
      () => raw.parse(preparedSmall.bytes),
    ],
    [
      'opa-wasm LoadedPolicy.evaluate(bytes) (copy, parse, eval, result dump + JSON.parse)',
      () => raw.evaluate(prepared.bytes),
      () => raw.evaluate(preparedSmall.bytes),
    ],
    [
      'engine.evaluate(prepared) (+ pool, time budget, decision contract)',
      () => engine.evaluate(prepared, opts),
      () => engine.evaluate(preparedSmall, opts),
    ],
    [
      'engine.evaluate(object) (what the gate calls)',
      () => engine.evaluate(input, opts),
      () => engine.evaluate(small, opts),
    ],
  ];
  const stepRows = steps.map(([name, f, s]) => {
    const a = summarize(time(f, STEP_RUNS, WARMUP / 5));
    const b = summarize(time(s, STEP_RUNS, WARMUP / 5));
    return [name, fmt(a.p50, 1), fmt(b.p50, 1), fmt(a.p50 - b.p50, 1)];
  });
  out.push(
    `### Where the time goes (median µs, ${STEP_RUNS.toLocaleString('en-US')} calls each)`,
    '',
    table(['step', 'full input:', 'predicate removed:', 'difference:'], stepRows),
    '',
  );

  // 3: every example.
  progress(`examples: ${EXAMPLE_RUNS} calls each`);
  const dir = join(ROOT, 'policies/examples');
  const exampleRows: string[][] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const x = JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown;
    const d = engine.evaluate(x, opts);
    const p = engine.prepareInput(x);
    const o = summarize(time(() => engine.evaluate(x, opts), EXAMPLE_RUNS, EXAMPLE_RUNS / 4));
    const q = summarize(time(() => engine.evaluate(p, opts), EXAMPLE_RUNS, EXAMPLE_RUNS / 4));
    exampleRows.push([
      file,
      fmt(serializedBytes(x) / 1024, 1),
      d.allow ? 'allow' : `deny (${d.deny.length})`,
      fmt(o.p50, 1),
      fmt(q.p50, 1),
    ]);
  }
  out.push(
    `### Every example input (median µs, ${EXAMPLE_RUNS.toLocaleString('en-US')} calls each; parameters: ${JSON.stringify(POLICY_PARAMS)})`,
    '',
    table(['example', 'KiB:', 'decision', 'evaluate(object):', 'evaluate(prepared):'], exampleRows),
    '',
  );

  // 4: RSS over a long run, with the per-call times of that run.
  progress(`RSS: ${RSS_RUNS.toLocaleString('en-US')} evaluations`);
  // Written through once, so its pages are resident before "before" (8 MB that would
  // otherwise show up as growth, 8 bytes per evaluation).
  const times = new Float64Array(RSS_RUNS).fill(1);
  const failuresBefore = { ...engine.stats().failures };
  for (let i = 0; i < WARMUP; i++) engine.evaluate(input, opts);
  gc();
  const before = process.memoryUsage();
  const checkpoints: string[] = [];
  const every = RSS_RUNS / 4;
  const started = performance.now();
  for (let i = 0; i < RSS_RUNS; i++) {
    const t0 = performance.now();
    engine.evaluate(input, opts);
    times[i] = (performance.now() - t0) * 1000;
    if ((i + 1) % every === 0) checkpoints.push(mib(process.memoryUsage().rss));
  }
  const seconds = (performance.now() - started) / 1000;
  const afterNoGc = process.memoryUsage().rss;
  gc();
  const after = process.memoryUsage();
  const long = summarize(times);
  const stats = engine.stats();
  out.push(
    `### ${RSS_RUNS.toLocaleString('en-US')} in-process evaluations, \`evaluate(object)\`, full input`,
    '',
    table(
      ['', 'value:'],
      [
        ['evaluations/s (wall)', fmt(RSS_RUNS / seconds, 0)],
        ['p50 / p99 / max µs', `${fmt(long.p50, 1)} / ${fmt(long.p99, 1)} / ${fmt(long.max, 0)}`],
        ['RSS before (after warm-up and a GC)', mib(before.rss)],
        ['RSS at each quarter', checkpoints.join(', ')],
        ['RSS after (before GC)', mib(afterNoGc)],
        ['RSS after (after a GC)', mib(after.rss)],
        ['RSS delta (after GC - before)', mib(after.rss - before.rss)],
        ['JS heap used before / after', `${mib(before.heapUsed)} / ${mib(after.heapUsed)}`],
        [
          'V8 external memory (array buffers included) before / after',
          `${mib(before.external)} / ${mib(after.external)}`,
        ],
        [
          'policy instances created / discarded',
          `${stats.instancesCreated} / ${stats.instancesDiscarded}`,
        ],
        [
          `evaluations that failed (denied), by code (time budget ${budgetMs} ms of wall time)`,
          failureCounts(failuresBefore, stats.failures),
        ],
      ],
    ),
    '',
    'Target: RSS flat. The wasm linear memory of each instance is allocated once and its heap reset by every `opa_eval`; the per-call buffers (JSON text, UTF-8 bytes) are garbage the GC returns.',
    '',
  );

  // 5: over loopback.
  const loop = await overLoopback(input, expected);
  out.push(
    `### Over loopback, autocannon, ${HTTP_SECONDS} s per row`,
    '',
    table(
      [
        'server',
        'connections:',
        'requests/s:',
        'p50 ms:',
        'p99 ms:',
        'server CPU µs/request:',
        'server cores used:',
        'failures:',
      ],
      loop.rows,
    ),
    '',
    ...loop.notes.map((n) => `- ${n}`),
    '- autocannon runs in the benchmark process on the same machine: on 2 cores it takes CPU from the server. "server CPU µs/request" (from /proc/<pid>/stat) is the figure that moves least with machine load.',
    '',
  );
  const growth = after.rss - before.rss;
  out.push(
    '### Targets',
    '',
    table(
      ['target', 'measured', 'verdict'],
      [
        [
          'median in-process evaluation <= 50 µs (what the gate calls)',
          `${fmt(long.p50, 1)} µs`,
          verdict(long.p50 <= 50),
        ],
        [
          'median in-process evaluation <= 50 µs (input prepared once)',
          `${fmt(full.prepared.p50, 1)} µs`,
          verdict(full.prepared.p50 <= 50),
        ],
        [
          `RSS flat over ${RSS_RUNS.toLocaleString('en-US')} evaluations (growth after GC <= 5 MiB)`,
          mib(growth),
          verdict(growth <= 5 * 2 ** 20),
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
