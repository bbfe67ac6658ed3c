export { TrustError } from './error.ts';
export type { TrustErrorCode } from './error.ts';
export { buildTrustMaterial } from './material.ts';
export type { KeyInput, TrustInputs } from './material.ts';
export {
  embeddedNpmKeys,
  embeddedTrustedRoot,
  loadTrustInputs,
  loadTrustMaterial,
  parseTrustedRootFile,
} from './load.ts';
export type { TrustSources } from './load.ts';
export type {
  CertificateAuthority,
  LogAuthority,
  TrustMaterial,
  TrustedKey,
  ValidityPeriod,
} from './trust.types.ts';
