// time.parse_rfc3339_ns and time.add_date as OPA computes them (v1/topdown/time.go),
// in nanoseconds since the Unix epoch as bigint. `undefined` is OPA's builtin
// error, which a non-strict evaluation (OPA's default) treats as undefined.

const NS_PER_SECOND = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;
// OPA refuses times outside int64 nanoseconds (toSafeUnixNano).
const MIN_NS = -(2n ** 63n);
const MAX_NS = 2n ** 63n - 1n;

/**
 * Go's time.Parse(time.RFC3339, s). Go first tries a strict RFC 3339 parser and
 * falls back to its general layout parser, which accepts a superset (a one-digit
 * hour, a comma before the fraction, zone offsets up to 24:60); this implements
 * the general parser for the layout "2006-01-02T15:04:05Z07:00".
 */
export function parseRfc3339Ns(s: string): bigint | undefined {
  let rest = s;
  const take = (n: number): string => {
    const head = rest.slice(0, n);
    rest = rest.slice(n);
    return head;
  };
  const literal = (text: string): boolean => {
    if (!rest.startsWith(text)) return false;
    rest = rest.slice(text.length);
    return true;
  };
  // Go's getnum: one or two digits; `fixed` requires two.
  const num = (fixed: boolean): number | undefined => {
    if (!isDigit(rest, 0)) return undefined;
    if (!isDigit(rest, 1)) {
      if (fixed) return undefined;
      return Number(take(1));
    }
    return Number(take(2));
  };

  // 2006: exactly four digits
  if (rest.length < 4 || !/^\d{4}/.test(rest)) return undefined;
  const year = Number(take(4));
  if (!literal('-')) return undefined;
  const month = num(true);
  if (month === undefined || month < 1 || month > 12 || !literal('-')) return undefined;
  const day = num(true);
  if (day === undefined || !literal('T')) return undefined;
  const hour = num(false);
  if (hour === undefined || hour >= 24 || !literal(':')) return undefined;
  const minute = num(true);
  if (minute === undefined || minute >= 60 || !literal(':')) return undefined;
  const second = num(true);
  if (second === undefined || second >= 60) return undefined;

  // A fraction the layout does not name is still accepted after the seconds.
  let nanos = 0n;
  if (rest.length >= 2 && (rest[0] === '.' || rest[0] === ',') && isDigit(rest, 1)) {
    let n = 2;
    while (n < rest.length && isDigit(rest, n)) n++;
    // Go's parseNanoseconds: at most nine digits count, the rest are dropped.
    const digits = rest.slice(1, Math.min(n, 10));
    nanos = BigInt(digits.padEnd(9, '0'));
    rest = rest.slice(n);
  }

  // Z07:00: "Z", or a sign, two-digit hours, ':' and two-digit minutes.
  let offsetSeconds = 0;
  if (rest.startsWith('Z')) {
    rest = rest.slice(1);
  } else {
    if (rest.length < 6 || rest[3] !== ':') return undefined;
    const sign = rest[0];
    const hh = rest.slice(1, 3);
    const mm = rest.slice(4, 6);
    if (!/^\d\d$/.test(hh) || !/^\d\d$/.test(mm)) return undefined;
    if (sign !== '+' && sign !== '-') return undefined;
    const hours = Number(hh);
    const minutes = Number(mm);
    // Go's range test uses > rather than >=: "+24:00" and "+00:60" pass.
    if (hours > 24 || minutes > 60) return undefined;
    offsetSeconds = (hours * 60 + minutes) * 60 * (sign === '-' ? -1 : 1);
    rest = rest.slice(6);
  }
  if (rest !== '') return undefined;
  if (day < 1 || day > daysIn(month, year)) return undefined;

  const seconds = utcSeconds(year, month - 1, day, hour, minute, second) - BigInt(offsetSeconds);
  return inRange(seconds * NS_PER_SECOND + nanos);
}

/**
 * Go's t.AddDate(years, months, days) for t = time.Unix(0, ns) in UTC: the
 * calendar fields are added and then normalized (October 31 + 1 month is
 * December 1), as Go's time.Date does.
 */
export function addDateNs(
  ns: bigint,
  years: number,
  months: number,
  days: number,
): bigint | undefined {
  let seconds = ns / NS_PER_SECOND;
  let nanos = ns % NS_PER_SECOND;
  if (nanos < 0n) {
    nanos += NS_PER_SECOND;
    seconds -= 1n;
  }
  const t = new Date(Number(seconds) * 1000);
  const result = new Date(0);
  // setUTCFullYear takes the year as given (Date.UTC maps 0-99 to 1900-1999).
  result.setUTCFullYear(
    t.getUTCFullYear() + years,
    t.getUTCMonth() + months,
    t.getUTCDate() + days,
  );
  result.setUTCHours(t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds(), 0);
  const ms = result.getTime();
  if (!Number.isFinite(ms)) return undefined;
  return inRange(BigInt(ms) * NS_PER_MS + nanos);
}

function utcSeconds(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): bigint {
  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  d.setUTCHours(hour, minute, second, 0);
  return BigInt(d.getTime() / 1000);
}

function daysIn(month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

function inRange(ns: bigint): bigint | undefined {
  return ns < MIN_NS || ns > MAX_NS ? undefined : ns;
}
