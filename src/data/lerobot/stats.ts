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
 * four dimensions' values, bin counts and block counts.
 */
let columns = new Float64Array(4 * 1024);
const histogram = new Int32Array(HISTOGRAM_BINS);
/**
 * Block counts in LANES interleaved copies, frame f counting in lane f % LANES: consecutive values mostly
 * fall in the same block, and one counter incremented frame after frame waits on its own previous store
 * every time. The lanes are summed into blockCounts before the search.
 */
const LANES = 4;
const laneCounts = new Int32Array(BLOCKS * LANES);
const blockCounts = new Int32Array(BLOCKS);

/**
 * Stats of one episode's feature: `data` holds `frames * dim` values, frame-major.
 *
 * Four dimensions at a time are gathered into contiguous scratch columns in one pass whose min/max/sum/
 * sum of squares run in registers (four independent chains: each dimension still sums its frames in
 * order, so the results are those of one dimension at a time, at about half the cost). The quantile pass
 * then touches only the bins its frames fall in (clearing them afterwards) plus a two-level search, so an
 * episode costs O(frames * dim) rather than O(bins * dim).
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
  if (columns.length < 4 * frames) columns = new Float64Array(4 * frames);
  const cols = columns;
  const sums = new Float64Array(16);
  const quantiles = new Float64Array(QUANTILES.length);
  for (let d = 0; d < dim; d += 4) {
    const width = Math.min(4, dim - d);
    if (width === 4) gather4(data, frames, dim, d, cols, sums);
    else for (let k = 0; k < width; k++) gather1(data, frames, dim, d + k, cols, k, sums);
    for (let k = 0; k < width; k++) {
      const min = sums[4 * k] as number;
      const max = sums[4 * k + 1] as number;
      const sum = sums[4 * k + 2] as number;
      const mean = sum / frames;
      stats.min.push(min);
      stats.max.push(max);
      stats.mean.push(mean);
      stats.std.push(Math.sqrt(Math.max(0, (sums[4 * k + 3] as number) / frames - mean * mean)));
      if (frames < 2 || !(Number.isFinite(min) && Number.isFinite(max))) {
        // numpy cannot bin an infinite range either; such a column fails the quality check for NaN/Inf.
        for (const key of QUANTILE_KEYS) stats[key].push(mean);
        continue;
      }
      // A NaN makes the sum NaN; without one every value is binned.
      histogramQuantiles(cols, k * frames, frames, min, max, !Number.isNaN(sum), quantiles);
      for (let i = 0; i < QUANTILE_KEYS.length; i++) {
        stats[QUANTILE_KEYS[i] as (typeof QUANTILE_KEYS)[number]].push(quantiles[i] as number);
      }
    }
  }
  return stats;
}

/**
 * Dimensions d..d+3 into cols[k * frames + f]; min, max, sum, sum of squares of dimension d + k into
 * out[4k..4k+3]. (A NaN is skipped by min and max and turns the sums NaN.)
 */
function gather4(
  data: NumericColumn,
  frames: number,
  dim: number,
  d: number,
  cols: Float64Array,
  out: Float64Array,
): void {
  let min0 = Number.POSITIVE_INFINITY;
  let min1 = min0;
  let min2 = min0;
  let min3 = min0;
  let max0 = Number.NEGATIVE_INFINITY;
  let max1 = max0;
  let max2 = max0;
  let max3 = max0;
  let sum0 = 0;
  let sum1 = 0;
  let sum2 = 0;
  let sum3 = 0;
  let sq0 = 0;
  let sq1 = 0;
  let sq2 = 0;
  let sq3 = 0;
  for (let f = 0, at = d; f < frames; f++, at += dim) {
    const x0 = data[at] as number;
    const x1 = data[at + 1] as number;
    const x2 = data[at + 2] as number;
    const x3 = data[at + 3] as number;
    cols[f] = x0;
    cols[frames + f] = x1;
    cols[2 * frames + f] = x2;
    cols[3 * frames + f] = x3;
    if (x0 < min0) min0 = x0;
    if (x0 > max0) max0 = x0;
    if (x1 < min1) min1 = x1;
    if (x1 > max1) max1 = x1;
    if (x2 < min2) min2 = x2;
    if (x2 > max2) max2 = x2;
    if (x3 < min3) min3 = x3;
    if (x3 > max3) max3 = x3;
    sum0 += x0;
    sum1 += x1;
    sum2 += x2;
    sum3 += x3;
    sq0 += x0 * x0;
    sq1 += x1 * x1;
    sq2 += x2 * x2;
    sq3 += x3 * x3;
  }
  out[0] = min0;
  out[1] = max0;
  out[2] = sum0;
  out[3] = sq0;
  out[4] = min1;
  out[5] = max1;
  out[6] = sum1;
  out[7] = sq1;
  out[8] = min2;
  out[9] = max2;
  out[10] = sum2;
  out[11] = sq2;
  out[12] = min3;
  out[13] = max3;
  out[14] = sum3;
  out[15] = sq3;
}

/** gather4 for the one dimension `d`, into cols[k * frames + f] and out[4k..4k+3]. */
function gather1(
  data: NumericColumn,
  frames: number,
  dim: number,
  d: number,
  cols: Float64Array,
  k: number,
  out: Float64Array,
): void {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  let sumSq = 0;
  for (let f = 0, at = d, to = k * frames; f < frames; f++, at += dim, to++) {
    const x = data[at] as number;
    cols[to] = x;
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
    sumSq += x * x;
  }
  out[4 * k] = min;
  out[4 * k + 1] = max;
  out[4 * k + 2] = sum;
  out[4 * k + 3] = sumSq;
}

/**
 * Where (x - lo) * norm lies this far inside a bin, the edge comparisons below cannot disagree with it
 * (both are exact to ~1e-12 of a bin); only values near an edge are checked against the edges.
 */
const EDGE_MARGIN = 1e-6;

/**
 * numpy.histogram over LeRobot's edges linspace(min - 1e-10, max + 1e-10, bins + 1) (a value goes to the
 * bin whose left edge it reaches; the last bin is closed on the right), then
 * RunningQuantileStats._compute_single_quantile per quantile (searchsorted(cumsum, q * n, side='left'),
 * linear interpolation inside the bin). The cumulative sum is never materialised: block counts locate the
 * block, then the bins inside it. Reads col[from .. from + frames).
 */
function histogramQuantiles(
  col: Float64Array,
  from: number,
  frames: number,
  min: number,
  max: number,
  noNaN: boolean,
  out: Float64Array,
): void {
  const bins = HISTOGRAM_BINS;
  const hist = histogram;
  const lo = min - 1e-10;
  const hi = max + 1e-10;
  const width = (hi - lo) / bins;
  const norm = bins / (hi - lo);
  let counted = 0;
  const to = from + frames;
  if (noNaN) {
    counted = frames;
    for (let f = from; f < to; f++) {
      const x = col[f] as number;
      // x >= lo, so truncation is floor; near an edge the bin is corrected against the actual edges, as
      // numpy does.
      const pos = (x - lo) * norm;
      let i = pos | 0;
      const frac = pos - i;
      if (!(frac > EDGE_MARGIN && frac < 1 - EDGE_MARGIN) || i >= bins - 1) {
        if (i >= bins) i = bins - 1;
        if (x < lo + i * width) i--;
        else if (i !== bins - 1 && x >= lo + (i + 1) * width) i++;
      }
      hist[i] = (hist[i] as number) + 1;
      const lane = ((i >> BLOCK_SHIFT) << 2) | (f & 3);
      laneCounts[lane] = (laneCounts[lane] as number) + 1;
    }
  } else {
    for (let f = from; f < to; f++) {
      const x = col[f] as number;
      // NaN falls outside every edge (numpy.histogram drops it).
      if (Number.isNaN(x)) continue;
      counted++;
      let i = ((x - lo) * norm) | 0;
      if (i >= bins) i = bins - 1;
      if (x < lo + i * width) i--;
      else if (i !== bins - 1 && x >= lo + (i + 1) * width) i++;
      hist[i] = (hist[i] as number) + 1;
      const lane = ((i >> BLOCK_SHIFT) << 2) | (f & 3);
      laneCounts[lane] = (laneCounts[lane] as number) + 1;
    }
  }
  for (let b = 0, at = 0; b < BLOCKS; b++, at += LANES) {
    blockCounts[b] =
      (laneCounts[at] as number) +
      (laneCounts[at + 1] as number) +
      (laneCounts[at + 2] as number) +
      (laneCounts[at + 3] as number);
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
  laneCounts.fill(0);
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
