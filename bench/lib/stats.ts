/** Small statistics and formatting helpers shared by the benchmarks. */

/** Nearest-rank percentile (p in 0..1) of `xs`; NaN when empty. Sorts a copy. */
export function percentile(xs: ArrayLike<number>, p: number): number {
  const n = xs.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
}

export const median = (xs: ArrayLike<number>): number => percentile(xs, 0.5);

/** Fixed decimals, "–" for NaN / undefined. */
export function fmt(x: number | undefined, digits = 1): string {
  return x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits);
}

/** A ratio a/b formatted as `1.23×`. */
export function ratio(a: number, b: number, digits = 2): string {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(digits)}×` : "–";
}

/** A markdown table from a header row and body rows. */
export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}
