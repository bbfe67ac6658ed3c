import { VerificationError } from './error.ts';
import type { Digests } from './verify.types.ts';

const DIGEST = /^(sha256|sha512):([0-9a-fA-F]+)$/;
const HEX_LENGTH = { sha256: 64, sha512: 128 } as const;

/** Parses `sha256:<hex>` or `sha512:<hex>` into Digests (hex lower-cased). */
export function parseDigest(text: string): Digests {
  const m = DIGEST.exec(text);
  const algorithm = m?.[1] as keyof typeof HEX_LENGTH | undefined;
  if (m === null || algorithm === undefined || m[2]!.length !== HEX_LENGTH[algorithm]) {
    throw new VerificationError(
      'INVALID_DIGEST',
      `${JSON.stringify(text.slice(0, 140))} is not a digest of the form sha256:<64 hex> or sha512:<128 hex>`,
    );
  }
  return { [algorithm]: m[2]!.toLowerCase() };
}
