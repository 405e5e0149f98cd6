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

/** Histogram bins per coarse block: the quantile search walks blocks, then bins inside one block. */
const BLOCK_SHIFT = 7;
const BLOCK_BINS = 1 << BLOCK_SHIFT;
const BLOCKS = Math.ceil(HISTOGRAM_BINS / BLOCK_BINS);

/**
 * Scratch reused across calls (this module is single-threaded, and every call leaves the counts zeroed):
 * one dimension's values, bin counts and block counts.
 */
let column = new Float64Array(1024);
const histogram = new Int32Array(HISTOGRAM_BINS);
const blockCounts = new Int32Array(BLOCKS);

/**
 * Stats of one episode's feature: `data` holds `frames * dim` values, frame-major.
 *
 * Each dimension is gathered into a contiguous scratch column once; min/max/sum/sum of squares then run in
 * registers, and the quantile pass touches only the bins its frames fall in (clearing them afterwards)
 * plus a two-level search, so an episode costs O(frames * dim) rather than O(bins * dim).
 */
export function computeFeatureStats(data: NumericColumn, frames: number, dim: number): FeatureStats {
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
  if (column.length < frames) column = new Float64Array(frames);
  const col = column;
  const quantiles = new Float64Array(QUANTILES.length);
  for (let d = 0; d < dim; d++) {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    let sumSq = 0;
    for (let f = 0, at = d; f < frames; f++, at += dim) {
      const x = data[at] as number;
      col[f] = x;
      if (x < min) min = x;
      if (x > max) max = x;
      sum += x;
      sumSq += x * x;
    }
    const mean = sum / frames;
    stats.min.push(min);
    stats.max.push(max);
    stats.mean.push(mean);
    stats.std.push(Math.sqrt(Math.max(0, sumSq / frames - mean * mean)));
    if (frames < 2 || !(Number.isFinite(min) && Number.isFinite(max))) {
      // numpy cannot bin an infinite range either; such a column fails the quality check for NaN/Inf.
      for (const key of QUANTILE_KEYS) stats[key].push(mean);
      continue;
    }
    histogramQuantiles(col, frames, min, max, quantiles);
    for (let i = 0; i < QUANTILE_KEYS.length; i++) {
      stats[QUANTILE_KEYS[i] as (typeof QUANTILE_KEYS)[number]].push(quantiles[i] as number);
    }
  }
  return stats;
}

/**
 * numpy.histogram over LeRobot's edges linspace(min - 1e-10, max + 1e-10, bins + 1) (a value goes to the
 * bin whose left edge it reaches; the last bin is closed on the right), then
 * RunningQuantileStats._compute_single_quantile per quantile (searchsorted(cumsum, q * n, side='left'),
 * linear interpolation inside the bin). The cumulative sum is never materialised: block counts locate the
 * block, then the bins inside it.
 */
function histogramQuantiles(
  col: Float64Array,
  frames: number,
  min: number,
  max: number,
  out: Float64Array,
): void {
  const bins = HISTOGRAM_BINS;
  const hist = histogram;
  const lo = min - 1e-10;
  const hi = max + 1e-10;
  const width = (hi - lo) / bins;
  const norm = bins / (hi - lo);
  let counted = 0;
  for (let f = 0; f < frames; f++) {
    const x = col[f] as number;
    // NaN falls outside every edge (numpy.histogram drops it).
    if (Number.isNaN(x)) continue;
    counted++;
    // x >= lo, so truncation is floor; the bin is then corrected against the actual edges, as numpy does.
    let i = ((x - lo) * norm) | 0;
    if (i >= bins) i = bins - 1;
    if (x < lo + i * width) i--;
    else if (i !== bins - 1 && x >= lo + (i + 1) * width) i++;
    hist[i] = (hist[i] as number) + 1;
    blockCounts[i >> BLOCK_SHIFT] = (blockCounts[i >> BLOCK_SHIFT] as number) + 1;
  }
  let block = 0;
  let beforeBlock = 0;
  for (let k = 0; k < QUANTILES.length; k++) {
    const target = (QUANTILES[k] as number) * counted;
    // Quantiles ascend, so the search resumes where the previous one stopped.
    while (beforeBlock + (blockCounts[block] as number) < target) {
      beforeBlock += blockCounts[block] as number;
      block++;
    }
    let idx = block * BLOCK_BINS;
    let cum = beforeBlock + (hist[idx] as number);
    while (cum < target) {
      idx++;
      cum += hist[idx] as number;
    }
    const inBin = hist[idx] as number;
    const left = lo + idx * width;
    const right = idx + 1 === bins ? hi : lo + (idx + 1) * width;
    out[k] = idx === 0 ? lo : left + ((target - (cum - inBin)) / inBin) * (right - left);
  }
  // Clearing all 5000 counts (a memset) is cheaper than remembering each frame's bin.
  hist.fill(0);
  blockCounts.fill(0);
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
