import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  aggregateFeatureStats,
  computeFeatureStats,
  HISTOGRAM_BINS,
  QUANTILE_KEYS,
  QUANTILES,
} from '../../src/data/lerobot/stats.ts';

/**
 * LeRobot's per-episode estimator written the slow, literal way (compute_stats.py RunningQuantileStats):
 * edges = numpy.linspace(min - 1e-10, max + 1e-10, 5001); numpy.histogram with those explicit edges (a value
 * counts in bin i when edges[i] <= x < edges[i+1], the last bin closed on the right); then per quantile
 * searchsorted(cumsum, q * n, 'left') and linear interpolation inside the bin.
 */
function referenceQuantiles(values: number[]): number[] {
  const n = values.length;
  const lo = Math.min(...values) - 1e-10;
  const hi = Math.max(...values) + 1e-10;
  const step = (hi - lo) / HISTOGRAM_BINS;
  const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) =>
    i === HISTOGRAM_BINS ? hi : i * step + lo,
  );
  const hist = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const x of values) {
    let bin = -1;
    for (let i = 0; i < HISTOGRAM_BINS; i++) {
      const right = edges[i + 1] as number;
      if ((edges[i] as number) <= x && (x < right || (i === HISTOGRAM_BINS - 1 && x <= right))) {
        bin = i;
        break;
      }
    }
    assert.ok(bin >= 0, `value ${x} outside the edges`);
    hist[bin] = (hist[bin] as number) + 1;
  }
  const cumsum: number[] = [];
  hist.reduce((acc, c) => {
    cumsum.push(acc + c);
    return acc + c;
  }, 0);
  return QUANTILES.map((q) => {
    const target = q * n;
    const idx = cumsum.findIndex((c) => c >= target);
    if (idx === 0) return edges[0] as number;
    const before = cumsum[idx - 1] as number;
    const inBin = (cumsum[idx] as number) - before;
    if (inBin === 0) return edges[idx] as number;
    return (
      (edges[idx] as number) +
      ((target - before) / inBin) * ((edges[idx + 1] as number) - (edges[idx] as number))
    );
  });
}

/** Deterministic values: smooth, clustered, constant and heavy-tailed channels. */
function sample(frames: number, dim: number, seed: number): Float32Array {
  let s = seed;
  const rnd = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  const out = new Float32Array(frames * dim);
  for (let f = 0; f < frames; f++) {
    for (let d = 0; d < dim; d++) {
      const kind = d % 4;
      out[f * dim + d] =
        kind === 0
          ? Math.sin(f * 0.01 + d)
          : kind === 1
            ? Math.round(rnd() * 3) * 0.5
            : kind === 2
              ? 7.25
              : (rnd() - 0.5) ** 5 * 1e4;
    }
  }
  return out;
}

describe('feature stats (LeRobot compute_stats.py semantics)', () => {
  test('min, max, mean, population std and count per dimension', () => {
    const data = Float32Array.from([1, 10, 2, 20, 3, 30, 6, 40]);
    const s = computeFeatureStats(data, 4, 2);
    assert.deepEqual(s.min, [1, 10]);
    assert.deepEqual(s.max, [6, 40]);
    assert.deepEqual(s.mean, [3, 25]);
    assert.ok(Math.abs((s.std[0] as number) - Math.sqrt(3.5)) < 1e-12);
    assert.ok(Math.abs((s.std[1] as number) - Math.sqrt(125)) < 1e-12);
    assert.deepEqual(s.count, [4]);
  });

  test('quantiles equal the literal histogram estimator, bit for bit', () => {
    for (const [frames, dim, seed] of [
      [1000, 8, 1],
      [2, 4, 2],
      [37, 5, 3],
      [3001, 4, 4],
    ] as const) {
      const data = sample(frames, dim, seed);
      const got = computeFeatureStats(data, frames, dim);
      for (let d = 0; d < dim; d++) {
        const column = Array.from({ length: frames }, (_, f) => data[f * dim + d] as number);
        const want = referenceQuantiles(column);
        QUANTILE_KEYS.forEach((key, i) => {
          assert.equal(got[key][d], want[i], `${key} of dim ${d} (${frames} frames, seed ${seed})`);
        });
      }
    }
  });

  test('values on and next to bin edges are binned as numpy does', () => {
    // Range [0, 1]: k / 5000 sits within ~1e-10 of edge k, where the scaled position alone cannot decide.
    const column: number[] = [0, 1];
    for (let k = 1; k < HISTOGRAM_BINS; k += 37) column.push(Math.fround(k / HISTOGRAM_BINS));
    for (let k = 3; k < HISTOGRAM_BINS; k += 101)
      column.push(k / HISTOGRAM_BINS, (k + 1e-7) / HISTOGRAM_BINS);
    const got = computeFeatureStats(Float64Array.from(column), column.length, 1);
    const want = referenceQuantiles(column);
    QUANTILE_KEYS.forEach((key, i) => {
      assert.equal(got[key][0], want[i], key);
    });
  });

  test('dimensions gathered four at a time give the stats of each dimension alone, NaN included', () => {
    for (const dim of [1, 3, 4, 6, 9]) {
      const frames = 301;
      const data = sample(frames, dim, dim);
      data[5 * dim + (dim - 1)] = Number.NaN;
      const all = computeFeatureStats(data, frames, dim);
      for (let d = 0; d < dim; d++) {
        const column = Float32Array.from({ length: frames }, (_, f) => data[f * dim + d] as number);
        const one = computeFeatureStats(column, frames, 1);
        for (const key of ['min', 'max', 'mean', 'std', ...QUANTILE_KEYS] as const) {
          assert.ok(Object.is(all[key][d], one[key][0]), `${key} of dim ${d} of ${dim}`);
        }
      }
      // The NaN is left out of min, max and the histogram (counted over the other frames) and makes the
      // mean NaN, as numpy's nan-unaware mean does.
      assert.ok(Number.isNaN(all.mean[dim - 1] as number));
      assert.ok(Number.isFinite(all.min[dim - 1] as number));
    }
  });

  test('integer columns (frame_index) and a repeated call give the same answer (scratch is reset)', () => {
    const frames = Float64Array.from({ length: 500 }, (_, i) => i);
    const a = computeFeatureStats(frames, 500, 1);
    const b = computeFeatureStats(frames, 500, 1);
    assert.deepEqual(a, b);
    QUANTILE_KEYS.forEach((key, i) => {
      assert.equal(a[key][0], referenceQuantiles(Array.from(frames))[i]);
    });
  });

  test('one frame: every quantile is the mean (_compute_basic_stats)', () => {
    const s = computeFeatureStats(Float32Array.from([2, -1]), 1, 2);
    for (const key of QUANTILE_KEYS) assert.deepEqual(s[key], [2, -1]);
    assert.deepEqual(s.std, [0, 0]);
  });

  test('aggregation: count-weighted mean, pooled std, quantile envelope', () => {
    const a = computeFeatureStats(Float32Array.from([0, 1, 2, 3]), 4, 1);
    const b = computeFeatureStats(Float32Array.from([10, 11]), 2, 1);
    const all = computeFeatureStats(Float32Array.from([0, 1, 2, 3, 10, 11]), 6, 1);
    const agg = aggregateFeatureStats([a, b]);
    assert.deepEqual(agg.count, [6]);
    assert.ok(Math.abs((agg.mean[0] as number) - (all.mean[0] as number)) < 1e-12);
    assert.ok(Math.abs((agg.std[0] as number) - (all.std[0] as number)) < 1e-12);
    assert.deepEqual(agg.min, [0]);
    assert.deepEqual(agg.max, [11]);
    assert.equal(agg.q01[0], Math.min(a.q01[0] as number, b.q01[0] as number));
    assert.equal(agg.q50[0], Math.min(a.q50[0] as number, b.q50[0] as number));
    assert.equal(agg.q99[0], Math.max(a.q99[0] as number, b.q99[0] as number));
  });
});
