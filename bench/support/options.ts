// Run-wide switches: --quick (or BENCH_QUICK=1) for a smoke run of about
// 30 seconds per benchmark that only proves the scripts work.

export const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

/** The full-run value, or the quick one under --quick. */
export function pick<T>(full: T, quick: T): T {
  return QUICK ? quick : full;
}

/** Progress for the person watching; stdout is kept for the Markdown report. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
