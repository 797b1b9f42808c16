/**
 * Figures: every number the bench reports is a median over repeats with its min and max,
 * and every comparison is a ratio against a baseline measured in the same run (per repeat,
 * so slow drift on a noisy machine cancels out).
 */

export interface Figure {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly repeats: number;
  readonly unit: string;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function figure(samples: readonly number[], unit: string): Figure {
  return {
    median: median(samples),
    min: samples.length === 0 ? NaN : Math.min(...samples),
    max: samples.length === 0 ? NaN : Math.max(...samples),
    repeats: samples.length,
    unit,
  };
}

/** Per-repeat ratios a[i] / b[i] (the two were measured side by side in repeat i). */
export function ratio(a: readonly number[], b: readonly number[]): Figure {
  const r: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) r.push((a[i] as number) / (b[i] as number));
  return figure(r, "x");
}

/** A single computed value as a Figure (repeats 1), for analytic baselines. */
export function exact(value: number, unit: string): Figure {
  return { median: value, min: value, max: value, repeats: 1, unit };
}

/** 1234567 -> "1.23 M", 0.0123 -> "0.0123"; three significant digits. */
export function human(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1e9) return `${sig(n / 1e9)} G`;
  if (a >= 1e6) return `${sig(n / 1e6)} M`;
  if (a >= 1e4) return `${sig(n / 1e3)} k`;
  return sig(n);
}

function sig(n: number): string {
  const a = Math.abs(n);
  if (a === 0) return "0";
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

/** Rounds a Figure's numbers for JSON (4 significant digits keeps the file readable). */
export function rounded(f: Figure): Figure {
  const r = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(4)) : x);
  return { ...f, median: r(f.median), min: r(f.min), max: r(f.max) };
}
