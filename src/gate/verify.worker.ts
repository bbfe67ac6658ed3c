// A verification worker: builds the trust material once from the inputs it is
// given, then verifies documents it is sent (see workers.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { buildTrustMaterial, type TrustInputs } from '../trust/index.ts';
import { verifyDocument, type DocumentCheck } from './verifydoc.ts';

const trust = buildTrustMaterial((workerData as { trust: TrustInputs }).trust);

parentPort!.on('message', (m: { id: number; check: DocumentCheck }) => {
  try {
    parentPort!.postMessage({ id: m.id, outcomes: verifyDocument(m.check, trust) });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
  }
});
