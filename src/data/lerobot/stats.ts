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

/** Scratch reused across calls (this module is single-threaded): bin per frame, block counts. */
let binOf = new Int32Array(1024);
let blockCounts = new Float64Array(BLOCKS);

/**
 * Stats of one episode's feature: `data` holds `frames * dim` values, frame-major.
 * `histogram` is scratch space of HISTOGRAM_BINS zeros (reused across calls, left zeroed); pass none to
 * allocate.
 *
 * One frame-major pass gathers min/max/sum/sum of squares for every dimension at once; the quantile pass
 * then touches only the bins its frames fall in (clearing them afterwards) plus a two-level search, so an
 * episode costs O(frames * dim) rather than O(bins * dim).
 */
export function computeFeatureStats(
  data: NumericColumn,
  frames: number,
  dim: number,
  histogram: Float64Array = new Float64Array(HISTOGRAM_BINS),
): FeatureStats {
  const mins = new Float64Array(dim).fill(Number.POSITIVE_INFINITY);
  const maxs = new Float64Array(dim).fill(Number.NEGATIVE_INFINITY);
  const sums = new Float64Array(dim);
  const sumSqs = new Float64Array(dim);
  for (let f = 0, base = 0; f < frames; f++, base += dim) {
    for (let d = 0; d < dim; d++) {
      const x = data[base + d] as number;
      if (x < (mins[d] as number)) mins[d] = x;
      if (x > (maxs[d] as number)) maxs[d] = x;
      sums[d] = (sums[d] as number) + x;
      sumSqs[d] = (sumSqs[d] as number) + x * x;
    }
  }
  const stats: FeatureStats = {
    min: Array.from(mins),
    max: Array.from(maxs),
    mean: [],
    std: [],
    count: [frames],
    q01: [],
    q10: [],
    q50: [],
    q90: [],
    q99: [],
  };
  const quantiles = new Float64Array(QUANTILES.length);
  for (let d = 0; d < dim; d++) {
    const mean = (sums[d] as number) / frames;
    const variance = Math.max(0, (sumSqs[d] as number) / frames - mean * mean);
    stats.mean.push(mean);
    stats.std.push(Math.sqrt(variance));
    if (frames < 2) {
      for (const key of QUANTILE_KEYS) stats[key].push(mean);
      continue;
    }
    histogramQuantiles(data, frames, dim, d, mins[d] as number, maxs[d] as number, histogram, quantiles);
    for (let i = 0; i < QUANTILE_KEYS.length; i++) {
      stats[QUANTILE_KEYS[i] as (typeof QUANTILE_KEYS)[number]].push(quantiles[i] as number);
    }
  }
  return stats;
}

/**
 * numpy.histogram over uniform edges, then RunningQuantileStats._compute_single_quantile per quantile
 * (searchsorted(cumsum, q * n, side='left'), linear interpolation inside the bin). The cumulative sum is
 * never materialised: block counts locate the block, then the bins inside it.
 */
function histogramQuantiles(
  data: NumericColumn,
  frames: number,
  dim: number,
  d: number,
  min: number,
  max: number,
  hist: Float64Array,
  out: Float64Array,
): void {
  const bins = hist.length;
  const lo = min - 1e-10;
  const hi = max + 1e-10;
  const width = (hi - lo) / bins;
  const edge = (i: number): number => (i === bins ? hi : lo + i * width);
  const norm = bins / (hi - lo);
  if (binOf.length < frames) binOf = new Int32Array(frames);
  const blocks = Math.ceil(bins / BLOCK_BINS);
  if (blockCounts.length < blocks) blockCounts = new Float64Array(blocks);
  blockCounts.fill(0, 0, blocks);
  for (let f = 0, at = d; f < frames; f++, at += dim) {
    const x = data[at] as number;
    let i = Math.floor((x - lo) * norm);
    // numpy corrects the computed bin against the actual edges; the last bin is closed on the right.
    if (i >= bins) i = bins - 1;
    if (i < 0) i = 0;
    if (x < lo + i * width) i--;
    else if (i !== bins - 1 && x >= lo + (i + 1) * width) i++;
    hist[i] = (hist[i] as number) + 1;
    binOf[f] = i;
    const b = i >> BLOCK_SHIFT;
    blockCounts[b] = (blockCounts[b] as number) + 1;
  }
  let block = 0;
  let beforeBlock = 0;
  for (let k = 0; k < QUANTILES.length; k++) {
    const target = (QUANTILES[k] as number) * frames;
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
    const before = cum - inBin;
    if (idx === 0) out[k] = edge(0);
    else out[k] = edge(idx) + ((target - before) / inBin) * (edge(idx + 1) - edge(idx));
  }
  for (let f = 0; f < frames; f++) hist[binOf[f] as number] = 0;
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
