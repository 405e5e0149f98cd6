/** Linear scales and axis ticks for the console's SVG charts. */

export interface Scale {
  (v: number): number;
  ticks: number[];
}

/** Maps [lo, hi] onto [from, to]; a flat domain is widened so the line sits in the middle. */
export function linearScale(lo: number, hi: number, from: number, to: number, tickCount = 5): Scale {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const ticks = niceTicks(lo, hi, tickCount);
  const a = Math.min(lo, ticks[0] ?? lo);
  const b = Math.max(hi, ticks[ticks.length - 1] ?? hi);
  const f = ((v: number) => from + ((v - a) / (b - a)) * (to - from)) as Scale;
  f.ticks = ticks;
  return f;
}

/** Round tick values (1, 2, 5 x 10^k steps) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return [lo];
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 0.5; v += step) {
    out.push(Number(v.toPrecision(12)));
    if (v >= hi) break;
  }
  return out;
}

/** A tick label: few digits, no float noise. */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

/** Channel colours, distinct on white (Tableau 10). */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];
