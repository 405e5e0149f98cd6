import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LatencyHistogram, LayerTelemetry } from '../../src/control/scheduler/index.ts';

describe('LatencyHistogram', () => {
  test('small values are exact and percentiles follow ranks', () => {
    const h = new LatencyHistogram();
    for (let ns = 1; ns <= 100; ns++) h.recordNs(ns);
    assert.equal(h.count, 100);
    assert.equal(h.percentileMs(50), 50e-6);
    assert.equal(h.percentileMs(99), 99e-6);
    assert.equal(h.percentileMs(100), 100e-6);
    assert.equal(h.percentileMs(0), 1e-6);
    assert.equal(h.maxMs, 100e-6);
    assert.equal(h.minMs, 1e-6);
    assert.ok(Math.abs(h.meanMs - 50.5e-6) < 1e-15);
  });

  test('large values keep their relative precision (1/64) and the maximum is exact', () => {
    const h = new LatencyHistogram();
    const values = [0.02, 0.05, 0.3, 1, 7.5, 120, 480, 60_000];
    for (const ms of values) h.recordMs(ms);
    values.forEach((ms, i) => {
      const p = ((i + 1) / values.length) * 100;
      const got = h.percentileMs(p);
      assert.ok(got >= ms * (1 - 1e-12) && got <= ms * (1 + 1 / 64), `p${p}: ${got} for ${ms}`);
    });
    assert.equal(h.maxMs, 60_000);
  });

  test('bucket edges hold on both sides of 2^32 ns (integer and floating-point indexing)', () => {
    // Values in and below each bucket's upper edge land there: a single sample's p100 is its bucket's edge,
    // clipped to the sample; the sample just above an edge lands in the next bucket.
    for (const ns of [
      128,
      129,
      255,
      256,
      1e6 + 7,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 32 + 1,
      3e12,
    ]) {
      const h = new LatencyHistogram();
      h.recordNs(ns);
      h.recordNs(ns);
      const one = new LatencyHistogram();
      one.recordNs(ns);
      one.recordNs(1e15);
      // p50 of {ns, huge} is ns's bucket edge: >= ns and within the 1/64 precision.
      const edgeNs = one.percentileMs(50) * 1e6;
      assert.ok(edgeNs >= ns && edgeNs <= ns * (1 + 1 / 64), `${ns}: edge ${edgeNs}`);
      const next = new LatencyHistogram();
      next.recordNs(Math.round(edgeNs) + 1);
      next.recordNs(1e15);
      assert.ok(next.percentileMs(50) * 1e6 > edgeNs, `${ns}: ${edgeNs + 1} fell into the same bucket`);
      assert.equal(h.maxMs, Math.floor(ns) / 1e6);
    }
  });

  test('one slow sample in a hundred moves p99 but not p50', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 99; i++) h.recordMs(0.01);
    h.recordMs(5);
    assert.ok(h.percentileMs(50) < 0.0102);
    assert.ok(h.percentileMs(99) < 0.0102);
    assert.ok(h.percentileMs(99.5) >= 5);
    assert.equal(h.maxMs, 5);
  });

  test('empty, negative and NaN samples are harmless', () => {
    const h = new LatencyHistogram();
    assert.equal(h.percentileMs(99), 0);
    assert.equal(h.meanMs, 0);
    h.recordMs(-3);
    h.recordMs(Number.NaN);
    assert.equal(h.count, 2);
    assert.equal(h.maxMs, 0);
  });

  test('merge folds robots into one histogram; reset empties it; layouts must match', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 0; i < 50; i++) a.recordMs(0.001);
    for (let i = 0; i < 50; i++) b.recordMs(0.003);
    a.merge(b);
    assert.equal(a.count, 100);
    // Reported as the upper edge of the sample's bucket (conservative for latencies).
    assert.ok(a.percentileMs(50) >= 0.001 && a.percentileMs(50) <= 0.001 * (1 + 1 / 64));
    assert.ok(a.percentileMs(51) >= 0.003 && a.percentileMs(51) <= 0.003 * (1 + 1 / 64));
    a.reset();
    assert.equal(a.count, 0);
    assert.equal(a.maxMs, 0);
    assert.throws(() => a.merge(new LatencyHistogram(8)), RangeError);
    assert.throws(() => new LatencyHistogram(1), RangeError);
  });
});

describe('LayerTelemetry', () => {
  test('counts misses against the budget and reports the bench row', () => {
    const t = new LayerTelemetry('cerebellum', 1);
    for (let i = 0; i < 98; i++) t.record(0.2);
    t.record(1.5);
    t.record(3);
    const r = t.report();
    assert.equal(r.ticks, 100);
    assert.equal(r.misses, 2);
    assert.equal(r.budgetMs, 1);
    assert.equal(r.maxMs, 3);
    assert.ok(Math.abs(r.p50Ms - 0.2) <= 0.2 / 64);
    const fleet = new LayerTelemetry('cerebellum', 1);
    fleet.merge(t);
    fleet.merge(t);
    assert.equal(fleet.report().ticks, 200);
    assert.equal(fleet.report().misses, 4);
  });
});
