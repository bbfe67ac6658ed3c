import { fileURLToPath } from 'node:url';

/** The default policy bundle, compiled from policies/src and committed (policies/bundle.tar.gz). */
export const DEFAULT_POLICY_BUNDLE = fileURLToPath(
  new URL('../../policies/bundle.tar.gz', import.meta.url),
);
