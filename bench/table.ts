// Print benchmark rows as a plain aligned table.

export interface BenchRow {
  metric: string;
  runs: number;
  p50: string;
  /** Shown as its own column when any row has it. */
  p99?: string;
  max: string;
  target: string;
  note?: string;
}

/** Median of a list of numbers (NaN when empty). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (q in 0..1) of a list of numbers (NaN when empty). */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Format sub-millisecond timings for the table (two decimals). */
export function msFine(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)} ms` : 'n/a';
}

/** Format milliseconds for the table. */
export function ms(value: number): string {
  return Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a';
}

/** Render rows with a header. */
export function renderTable(rows: BenchRow[]): string {
  const withP99 = rows.some((row) => row.p99 !== undefined);
  const header = ['metric', 'runs', 'p50', ...(withP99 ? ['p99'] : []), 'max', 'target', 'note'];
  const cells = rows.map((row) => [
    row.metric,
    String(row.runs),
    row.p50,
    ...(withP99 ? [row.p99 ?? ''] : []),
    row.max,
    row.target,
    row.note ?? '',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((line) => line[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join('\n');
}
