// npm run bench:workers
// Would moving verification off the event loop help? Cold verifications per
// second of a real keyless bundle on the main thread, against two warm worker
// threads sharing the same work. provgate verifies on the main thread unless
// this shows a clear gain on the target machine (see bench/RESULTS.md).
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { buildTrustMaterial, embeddedTrustedRoot } from '../src/trust/index.ts';
import { parseAttestations, verifyAttestation } from '../src/verify/index.ts';

const text = readFileSync(
  new URL('../test/fixtures/gh-attestation/sigstore-js-2.1.0-bundle.json', import.meta.url),
  'utf8',
);
const digests = {
  sha512:
    '90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f',
};
const trust = buildTrustMaterial({ trustedRoots: [embeddedTrustedRoot()] });
const N = Number(process.env.BENCH_RUNS ?? 3000);

function work(n: number): void {
  for (let i = 0; i < n; i++) {
    const [a] = parseAttestations(text);
    verifyAttestation(a!, { digests }, trust, { now: new Date() });
  }
}

if (isMainThread) {
  work(300);
  let t0 = performance.now();
  work(N);
  const single = performance.now() - t0;
  const workers = [0, 1].map(() => new Worker(new URL(import.meta.url)));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
  t0 = performance.now();
  await Promise.all(
    workers.map(
      (w) =>
        new Promise((r) => {
          w.once('message', r);
          w.postMessage(N / 2);
        }),
    ),
  );
  const two = performance.now() - t0;
  for (const w of workers) await w.terminate();
  console.log(
    `${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(2)}, ${N} verifications`,
  );
  console.log('| where | cold verifications/s |');
  console.log('|---|---:|');
  console.log(`| main thread | ${((N / single) * 1000).toFixed(0)} |`);
  console.log(`| two worker threads | ${((N / two) * 1000).toFixed(0)} |`);
} else {
  work(300);
  parentPort!.postMessage('ready');
  parentPort!.on('message', (n: number) => {
    work(n);
    parentPort!.postMessage('done');
  });
}
