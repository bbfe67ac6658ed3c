// semver.is_valid and semver.compare as OPA v1.22 implements them
// (internal/semver/semver.go): SemVer 2.0.0 with an optional leading "v",
// no leading zeros in numeric identifiers, int64 major/minor/patch.

interface Version {
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  readonly preRelease: string;
}

// Go's `^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$`
const META_IDENTIFIER = /^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$/;
const INT64_MAX = 2n ** 63n - 1n;

export function parseSemver(input: string): Version | undefined {
  let version = input.startsWith('v') ? input.slice(1) : input;

  const plus = version.indexOf('+');
  if (plus >= 0) {
    if (!META_IDENTIFIER.test(version.slice(plus + 1))) return undefined;
    version = version.slice(0, plus);
  }
  let preRelease = '';
  const dash = version.indexOf('-');
  if (dash >= 0) {
    preRelease = version.slice(dash + 1);
    if (!META_IDENTIFIER.test(preRelease) || !validPreRelease(preRelease)) return undefined;
    version = version.slice(0, dash);
  }
  const parts = version.split('.');
  if (parts.length !== 3) return undefined;
  const [major, minor, patch] = parts.map(parseNumeric);
  if (major === undefined || minor === undefined || patch === undefined) return undefined;
  return { major, minor, patch, preRelease };
}

/** -1, 0 or 1 as a is lower than, equal to, or higher than b in SemVer precedence. */
export function compareSemver(a: Version, b: Version): -1 | 0 | 1 {
  for (const key of ['major', 'minor', 'patch'] as const) {
    if (a[key] > b[key]) return 1;
    if (a[key] < b[key]) return -1;
  }
  if (a.preRelease === b.preRelease) return 0;
  // A version without a pre-release is higher than the same version with one.
  if (a.preRelease === '') return 1;
  if (b.preRelease === '') return -1;

  const as = a.preRelease.split('.');
  const bs = b.preRelease.split('.');
  for (let i = 0; ; i++) {
    const x = as[i];
    const y = bs[i];
    if (x === undefined) return y === undefined ? 0 : -1;
    if (y === undefined) return 1;
    const xNum = isAllDecimals(x);
    const yNum = isAllDecimals(y);
    // Numeric identifiers have lower precedence than alphanumeric ones.
    if (xNum && !yNum) return -1;
    if (!xNum && yNum) return 1;
    if (xNum && yNum) {
      // Go's strconv.Atoi saturates at int64 bounds on overflow.
      const xi = clampInt64(BigInt(x));
      const yi = clampInt64(BigInt(y));
      if (xi !== yi) return xi > yi ? 1 : -1;
    } else if (x !== y) {
      // Identifiers are ASCII: UTF-16 order is Go's byte order.
      return x > y ? 1 : -1;
    }
  }
}

// Go's parseNumeric: no empty string, sign or leading zero; then ParseInt(s, 10, 64).
function parseNumeric(s: string): bigint | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(s)) return undefined;
  const n = BigInt(s);
  return n > INT64_MAX ? undefined : n;
}

function validPreRelease(pre: string): boolean {
  return pre.split('.').every((id) => !(id.length > 1 && id.startsWith('0') && isAllDecimals(id)));
}

function isAllDecimals(s: string): boolean {
  return /^[0-9]+$/.test(s);
}

function clampInt64(n: bigint): bigint {
  return n > INT64_MAX ? INT64_MAX : n;
}
