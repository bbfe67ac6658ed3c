// units.parse_bytes as OPA computes it (v1/topdown/parse_bytes.go): the amount
// is parsed by Go's big.Float.SetString at 64-bit precision, multiplied by the
// unit at 64-bit precision, and truncated toward zero. Rounding at 64 bits (not
// a double's 53) decides cases like "0.3kb", so the float arithmetic is
// reproduced exactly with bigint.

const KIB = 1024n;
const KB = 1000n;

const UNITS: Readonly<Record<string, bigint>> = {
  '': 1n,
  kb: KB,
  k: KB,
  kib: KIB,
  ki: KIB,
  mb: KB ** 2n,
  m: KB ** 2n,
  mib: KIB ** 2n,
  mi: KIB ** 2n,
  gb: KB ** 3n,
  g: KB ** 3n,
  gib: KIB ** 3n,
  gi: KIB ** 3n,
  tb: KB ** 4n,
  t: KB ** 4n,
  tib: KIB ** 4n,
  ti: KIB ** 4n,
  pb: KB ** 5n,
  p: KB ** 5n,
  pib: KIB ** 5n,
  pi: KIB ** 5n,
  eb: KB ** 6n,
  e: KB ** 6n,
  eib: KIB ** 6n,
  ei: KIB ** 6n,
};

const MAX_EXPONENT_DIGITS = 6;
const PREC = 64;
// Beyond this decimal exponent the exact arithmetic below gets expensive; OPA
// would answer with a number of up to a million digits. Refused as unsupported.
const MAX_SUPPORTED_EXPONENT = 400;

export class UnsupportedInputError extends Error {}

/** OPA's units.parse_bytes; undefined where OPA's builtin errors. */
export function parseBytes(input: string): bigint | undefined {
  const s = input.toLowerCase().replaceAll('"', '');
  if (s.includes(' ')) return undefined;
  const split = extractNumAndUnit(s);
  if (split === undefined) return undefined; // exponent too large
  const [num, unit] = split;
  if (num === '') return undefined;
  const multiplier = Object.hasOwn(UNITS, unit) ? UNITS[unit] : undefined;
  if (multiplier === undefined) return undefined;
  const amount = parseDecimal(num);
  if (amount === undefined) return undefined;
  if (amount.mant === 0n) return 0n;
  const product = round(amount.mant * multiplier, amount.exp);
  return truncate(product.mant, product.exp);
}

// Go's extractNumAndUnit: digits, '.', and an exponent 'e' only when a digit
// or a sign follows it (so "1e" is one exabyte).
function extractNumAndUnit(s: string): [string, string] | undefined {
  const isNum = (c: string | undefined): boolean => c !== undefined && /[0-9.]/.test(c);
  const isDigit = (c: string | undefined): boolean => c !== undefined && /[0-9]/.test(c);
  let firstNonNum = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (!isNum(c) && c !== 'e' && c !== '+' && c !== '-') {
      firstNonNum = i;
      break;
    }
    if (c === 'e') {
      const next = s[i + 1];
      if (i === s.length - 1 || (!isDigit(next) && next !== '+' && next !== '-')) {
        firstNonNum = i;
        break;
      }
      if (next === '+' || next === '-') i++;
      let end = i + 1;
      while (end < s.length && isDigit(s[end])) end++;
      if (end - (i + 1) > MAX_EXPONENT_DIGITS) return undefined;
    }
  }
  if (firstNonNum === -1) return [s, ''];
  if (firstNonNum === 0) return ['', s];
  return [s.slice(0, firstNonNum), s.slice(firstNonNum)];
}

/** A binary float: mant * 2^exp, mant a signed integer. */
interface BinaryFloat {
  readonly mant: bigint;
  readonly exp: number;
}

// big.Float.SetString("...") at 64 bits: the decimal mantissa is exact, then
// multiplied (or divided) by 5^k and 2^k with one correct rounding. For
// k > 27, Go builds 5^k in steps at 128 and 192 bits (pow5): reproduced.
function parseDecimal(num: string): BinaryFloat | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/.exec(num);
  if (m === null) return undefined;
  const [, sign = '', intPart = '', fracPart = '', expPart] = m;
  if (intPart === '' && fracPart === '') return undefined;
  const digits = BigInt(intPart + fracPart || '0') * (sign === '-' ? -1n : 1n);
  const exp10 = (expPart === undefined ? 0 : Number(expPart)) - fracPart.length;
  if (digits === 0n) return { mant: 0n, exp: 0 };
  if (Math.abs(exp10) > MAX_SUPPORTED_EXPONENT) {
    // |amount| < 10^(significant digits + exp10); times at most 2^60 < 10^19, below 1 truncates to 0.
    const significant = (intPart + fracPart).replace(/^0+/, '').length;
    if (significant + exp10 + 19 < 0) return { mant: 0n, exp: 0 };
    throw new UnsupportedInputError(`units.parse_bytes: exponent ${exp10} is out of range`);
  }
  // 10^e = 5^e * 2^e
  if (exp10 === 0) return round(digits, 0);
  const five = pow5(Math.abs(exp10));
  if (exp10 > 0) return round(digits * five.mant, exp10 + five.exp);
  return divide(digits, exp10, five);
}

const POW5_TABLE_MAX = 27; // Go's pow5tab holds 5^0 .. 5^27 exactly

function pow5(n: number): BinaryFloat {
  if (n <= POW5_TABLE_MAX) return { mant: 5n ** BigInt(n), exp: 0 };
  let z: BinaryFloat = { mant: 5n ** BigInt(POW5_TABLE_MAX), exp: 0 };
  let f: BinaryFloat = { mant: 5n, exp: 0 };
  for (let k = n - POW5_TABLE_MAX; k > 0; k >>= 1) {
    if (k & 1) z = round(z.mant * f.mant, z.exp + f.exp, PREC + 64);
    f = round(f.mant * f.mant, 2 * f.exp, PREC + 128);
  }
  return z;
}

// (x * 2^e2) / (y.mant * 2^y.exp), correctly rounded to 64 bits.
function divide(x: bigint, e2: number, y: BinaryFloat): BinaryFloat {
  const neg = x < 0n;
  const a = neg ? -x : x;
  // Scale so the quotient has at least PREC + 2 bits; the remainder is the sticky bit.
  const shift = Math.max(0, PREC + 2 - (bitLength(a) - bitLength(y.mant)) + 1);
  const scaled = a << BigInt(shift);
  const q = scaled / y.mant;
  const sticky = scaled % y.mant !== 0n;
  const r = round((q << 1n) | (sticky ? 1n : 0n), e2 - y.exp - shift - 1);
  return neg ? { mant: -r.mant, exp: r.exp } : r;
}

/** mant * 2^exp rounded to `prec` significant bits, half to even. */
function round(mant: bigint, exp: number, prec = PREC): BinaryFloat {
  const neg = mant < 0n;
  let m = neg ? -mant : mant;
  const excess = bitLength(m) - prec;
  let e = exp;
  if (excess > 0) {
    const b = BigInt(excess);
    const rem = m & ((1n << b) - 1n);
    const half = 1n << (b - 1n);
    m >>= b;
    e += excess;
    if (rem > half || (rem === half && (m & 1n) === 1n)) m += 1n;
    if (bitLength(m) > prec) {
      m >>= 1n;
      e += 1;
    }
  }
  return { mant: neg ? -m : m, exp: e };
}

// big.Float.Int: toward zero.
function truncate(mant: bigint, exp: number): bigint {
  if (exp >= 0) return mant << BigInt(exp);
  return mant / (1n << BigInt(-exp)); // bigint division truncates toward zero
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}
