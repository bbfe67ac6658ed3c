// Percentiles and Markdown tables.

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

/** Nearest-rank percentiles over the samples (any unit). */
export function summarize(samples: ArrayLike<number>): Summary {
  const n = samples.length;
  if (n === 0) return { n, mean: NaN, p50: NaN, p90: NaN, p99: NaN, min: NaN, max: NaN };
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  const at = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!;
  return {
    n,
    mean: sum / n,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    min: sorted[0]!,
    max: sorted[n - 1]!,
  };
}

export function median(samples: ArrayLike<number>): number {
  return summarize(samples).p50;
}

/** A number with a sensible number of digits for a table. */
export function fmt(x: number, digits?: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  const d = digits ?? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2);
  return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** Markdown table; columns whose header ends in ':' are right-aligned (the ':' is dropped). */
export function table(headers: string[], rows: string[][]): string {
  const right = headers.map((h) => h.endsWith(':'));
  const head = headers.map((h) => (h.endsWith(':') ? h.slice(0, -1) : h));
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${right.map((r) => (r ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
  return lines.join('\n');
}

/** A target row's verdict. */
export function verdict(met: boolean): string {
  return met ? 'met' : '**missed**';
}
