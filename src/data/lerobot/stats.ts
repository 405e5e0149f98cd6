/**
 * Feature statistics as LeRobot computes them (lerobot/datasets/compute_stats.py):
 *
 * - per episode, per dimension: min, max, mean, std (population, from E[x^2] - E[x]^2), count (frames), and
 *   quantiles q01..q99 estimated from a 5000-bin histogram spanning [min - 1e-10, max + 1e-10] with linear
 *   interpolation inside the bin (RunningQuantileStats); an episode of fewer than 2 frames reports its mean
 *   as every quantile (_compute_basic_stats).
 * - per dataset (stats.json): the episodes aggregated: min of mins, max of maxes, count-weighted mean,
 *   pooled variance; quantiles as a conservative envelope, the minimum over episodes for q <= 50 and the
 *   maximum for q > 50 (aggregate_feature_stats since LeRobot PR #3804).
 *
 * Arithmetic is float64 throughout; LeRobot keeps float32 inputs in float32 for mean/std, so the last
 * digits can differ.
 */
import type { FeatureStats } from './format.ts';

export const QUANTILES = [0.01, 0.1, 0.5, 0.9, 0.99] as const;
export const QUANTILE_KEYS = ['q01', 'q10', 'q50', 'q90', 'q99'] as const;
export const HISTOGRAM_BINS = 5000;

/** Anything indexable by number: Float32Array, Float64Array, number[]. */
export type NumericColumn = ArrayLike<number>;

/**
 * Stats of one episode's feature: `data` holds `frames * dim` values, frame-major.
 * `histogram` is scratch space (reused across calls to avoid allocation); pass none to allocate.
 */
export function computeFeatureStats(
  data: NumericColumn,
  frames: number,
  dim: number,
  histogram: Float64Array = new Float64Array(HISTOGRAM_BINS),
): FeatureStats {
  const stats: FeatureStats = {
    min: [],
    max: [],
    mean: [],
    std: [],
    count: [frames],
    q01: [],
    q10: [],
    q50: [],
    q90: [],
    q99: [],
  };
  for (let d = 0; d < dim; d++) {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    let sumSq = 0;
    for (let f = 0; f < frames; f++) {
      const x = data[f * dim + d] as number;
      if (x < min) min = x;
      if (x > max) max = x;
      sum += x;
      sumSq += x * x;
    }
    const mean = sum / frames;
    const variance = Math.max(0, sumSq / frames - mean * mean);
    stats.min.push(min);
    stats.max.push(max);
    stats.mean.push(mean);
    stats.std.push(Math.sqrt(variance));
    if (frames < 2) {
      for (const key of QUANTILE_KEYS) stats[key].push(mean);
      continue;
    }
    const quantiles = histogramQuantiles(data, frames, dim, d, min, max, histogram);
    QUANTILE_KEYS.forEach((key, i) => {
      stats[key].push(quantiles[i] as number);
    });
  }
  return stats;
}

/** numpy.histogram over uniform edges, then RunningQuantileStats._compute_single_quantile per quantile. */
function histogramQuantiles(
  data: NumericColumn,
  frames: number,
  dim: number,
  d: number,
  min: number,
  max: number,
  hist: Float64Array,
): number[] {
  const bins = hist.length;
  const lo = min - 1e-10;
  const hi = max + 1e-10;
  const width = (hi - lo) / bins;
  const edge = (i: number): number => (i === bins ? hi : lo + i * width);
  hist.fill(0);
  const norm = bins / (hi - lo);
  for (let f = 0; f < frames; f++) {
    const x = data[f * dim + d] as number;
    let i = Math.floor((x - lo) * norm);
    // numpy corrects the computed bin against the actual edges; the last bin is closed on the right.
    if (i >= bins) i = bins - 1;
    if (i < 0) i = 0;
    if (x < edge(i)) i--;
    else if (i !== bins - 1 && x >= edge(i + 1)) i++;
    hist[i] = (hist[i] as number) + 1;
  }
  // Cumulative counts in place, then searchsorted(cumsum, q * n, side='left') per quantile.
  for (let i = 1; i < bins; i++) hist[i] = (hist[i] as number) + (hist[i - 1] as number);
  const out: number[] = [];
  for (const q of QUANTILES) {
    const target = q * frames;
    let a = 0;
    let b = bins;
    while (a < b) {
      const m = (a + b) >>> 1;
      if ((hist[m] as number) < target) a = m + 1;
      else b = m;
    }
    const idx = a;
    if (idx === 0) out.push(edge(0));
    else if (idx >= bins) out.push(edge(bins));
    else {
      const before = hist[idx - 1] as number;
      const inBin = (hist[idx] as number) - before;
      if (inBin === 0) out.push(edge(idx));
      else out.push(edge(idx) + ((target - before) / inBin) * (edge(idx + 1) - edge(idx)));
    }
  }
  return out;
}

/** Aggregates per-episode stats of one feature (compute_stats.py aggregate_feature_stats). */
export function aggregateFeatureStats(parts: readonly FeatureStats[]): FeatureStats {
  const first = parts[0];
  if (first === undefined) throw new Error('aggregateFeatureStats: no stats to aggregate');
  const dim = first.mean.length;
  const total = parts.reduce((n, s) => n + (s.count[0] as number), 0);
  const out: FeatureStats = {
    min: [],
    max: [],
    mean: [],
    std: [],
    count: [total],
    q01: [],
    q10: [],
    q50: [],
    q90: [],
    q99: [],
  };
  for (let d = 0; d < dim; d++) {
    let mean = 0;
    for (const s of parts) mean += (s.mean[d] as number) * (s.count[0] as number);
    mean /= total;
    let variance = 0;
    for (const s of parts) {
      const std = s.std[d] as number;
      const delta = (s.mean[d] as number) - mean;
      variance += (std * std + delta * delta) * (s.count[0] as number);
    }
    variance /= total;
    out.min.push(parts.reduce((m, s) => Math.min(m, s.min[d] as number), Number.POSITIVE_INFINITY));
    out.max.push(parts.reduce((m, s) => Math.max(m, s.max[d] as number), Number.NEGATIVE_INFINITY));
    out.mean.push(mean);
    out.std.push(Math.sqrt(variance));
    for (const key of QUANTILE_KEYS) {
      const lower = Number(key.slice(1)) <= 50;
      out[key].push(
        parts.reduce(
          (m, s) => (lower ? Math.min(m, s[key][d] as number) : Math.max(m, s[key][d] as number)),
          lower ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY,
        ),
      );
    }
  }
  return out;
}

/** Aggregates per-episode stats of every feature (compute_stats.py aggregate_stats). */
export function aggregateStats(
  perEpisode: readonly Record<string, FeatureStats>[],
): Record<string, FeatureStats> {
  const keys: string[] = [];
  for (const ep of perEpisode) for (const k of Object.keys(ep)) if (!keys.includes(k)) keys.push(k);
  const out: Record<string, FeatureStats> = {};
  for (const key of keys) {
    out[key] = aggregateFeatureStats(perEpisode.flatMap((ep) => (ep[key] ? [ep[key]] : [])));
  }
  return out;
}
